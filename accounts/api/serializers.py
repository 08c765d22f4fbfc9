"""Input and output serializers. Inputs validate; services write."""

from __future__ import annotations

from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from ..languages import LANGUAGE_CHOICES
from ..models import (
    TIMEZONE_CHOICES,
    Availability,
    Category,
    ClientKind,
    ClientProfile,
    CompanySize,
    Education,
    Employment,
    ExperienceLevel,
    FreelancerProfile,
    PortfolioItem,
    Proficiency,
    ProfileLanguage,
    Role,
    Skill,
    Subcategory,
    User,
    Visibility,
)


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "name", "slug"]


class SubcategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Subcategory
        fields = ["id", "name", "slug"]


class CategorySerializer(serializers.ModelSerializer):
    subcategories = SubcategorySerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "subcategories"]


class MeSerializer(serializers.ModelSerializer):
    is_freelancer = serializers.BooleanField(read_only=True)
    is_client = serializers.BooleanField(read_only=True)
    email_verified = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "active_role",
            "is_freelancer",
            "is_client",
            "email_verified",
            "date_joined",
        ]
        read_only_fields = fields

    def get_email_verified(self, user: User) -> bool:
        from allauth.account.models import EmailAddress

        return EmailAddress.objects.filter(user=user, verified=True).exists()


class MeUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=60, required=False)
    last_name = serializers.CharField(max_length=60, required=False)
    active_role = serializers.ChoiceField(choices=Role.choices, required=False)


class PortfolioItemSerializer(serializers.ModelSerializer):
    skills = SkillSerializer(many=True, read_only=True)

    class Meta:
        model = PortfolioItem
        fields = ["id", "title", "description", "link", "image", "file", "skills"]


class EducationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Education
        fields = ["id", "school", "degree", "field_of_study", "start_year", "end_year", "description"]


class EmploymentSerializer(serializers.ModelSerializer):
    country = CountryField(required=False, allow_blank=True)

    class Meta:
        model = Employment
        fields = ["id", "company", "title", "country", "start_date", "end_date", "description"]


class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfileLanguage
        fields = ["id", "language", "proficiency"]


class FreelancerPublicSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.display_name", read_only=True)
    country = CountryField(read_only=True)
    category = serializers.CharField(source="category.name", default=None, read_only=True)
    skills = SkillSerializer(many=True, read_only=True)
    languages = LanguageSerializer(many=True, read_only=True)
    photo = serializers.ImageField(read_only=True)

    class Meta:
        model = FreelancerProfile
        fields = [
            "public_id",
            "name",
            "title",
            "overview",
            "hourly_rate_cents",
            "category",
            "skills",
            "languages",
            "experience_level",
            "country",
            "timezone",
            "availability",
            "open_to_contract_to_hire",
            "photo",
            "job_success_score",
            "rating_avg",
            "reviews_count",
            "total_earned_cents",
            "badges",
            "published_at",
        ]
        read_only_fields = fields


class FreelancerPublicDetailSerializer(FreelancerPublicSerializer):
    portfolio_items = PortfolioItemSerializer(many=True, read_only=True)
    education = EducationSerializer(many=True, read_only=True)
    employment = EmploymentSerializer(many=True, read_only=True)

    class Meta(FreelancerPublicSerializer.Meta):
        fields = [*FreelancerPublicSerializer.Meta.fields, "portfolio_items", "education", "employment"]
        read_only_fields = fields


class OwnFreelancerProfileSerializer(FreelancerPublicDetailSerializer):
    """What the owner reads back: everything public plus private settings."""

    category_id = serializers.IntegerField(read_only=True)
    subcategory_id = serializers.IntegerField(read_only=True)
    completeness = serializers.SerializerMethodField()

    class Meta(FreelancerPublicDetailSerializer.Meta):
        fields = [
            *FreelancerPublicDetailSerializer.Meta.fields,
            "category_id",
            "subcategory_id",
            "visibility",
            "onboarding_step",
            "completeness",
        ]
        read_only_fields = fields

    def get_completeness(self, profile: FreelancerProfile) -> dict:
        from ..selectors import profile_completeness

        result = profile_completeness(profile)
        return {"percent": result.percent, "missing": [m.key for m in result.missing]}


class EducationInputSerializer(serializers.Serializer):
    school = serializers.CharField(max_length=120)
    degree = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    field_of_study = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    start_year = serializers.IntegerField(required=False, allow_null=True, min_value=1950, max_value=2040)
    end_year = serializers.IntegerField(required=False, allow_null=True, min_value=1950, max_value=2040)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class EmploymentInputSerializer(serializers.Serializer):
    company = serializers.CharField(max_length=120)
    title = serializers.CharField(max_length=120)
    country = CountryField(required=False, allow_blank=True, default="")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LanguageInputSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)
    proficiency = serializers.ChoiceField(choices=Proficiency.choices)


class PortfolioInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    link = serializers.URLField(max_length=200, required=False, allow_blank=True, default="")
    skill_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=15, default=list
    )


class FreelancerProfileInputSerializer(serializers.Serializer):
    """PATCH body for one's own freelancer profile. Nested lists, when given, replace the
    whole collection (portfolio items keep their files only through the HTML form)."""

    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    overview = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    hourly_rate_cents = serializers.IntegerField(
        required=False, allow_null=True, min_value=300, max_value=99900
    )
    category_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    subcategory_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    experience_level = serializers.ChoiceField(choices=ExperienceLevel.choices, required=False)
    country = CountryField(required=False, allow_blank=True)
    timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES, required=False)
    availability = serializers.ChoiceField(choices=Availability.choices, required=False)
    open_to_contract_to_hire = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    skill_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=15
    )
    education = EducationInputSerializer(many=True, required=False)
    employment = EmploymentInputSerializer(many=True, required=False)
    languages = LanguageInputSerializer(many=True, required=False)
    portfolio_items = PortfolioInputSerializer(many=True, required=False)

    def validate_education(self, value):
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 education entries.")
        return value

    def validate_employment(self, value):
        if len(value) > 30:
            raise serializers.ValidationError("At most 30 employment entries.")
        return value

    def validate_languages(self, value):
        codes = [item["language"] for item in value]
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError("Each language may appear once.")
        return value

    def validate_portfolio_items(self, value):
        if len(value) > 30:
            raise serializers.ValidationError("At most 30 portfolio items.")
        return value


class ClientProfileSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True, allow_blank=True)  # "" until the client gives one
    company_size = serializers.ChoiceField(choices=CompanySize.choices, allow_blank=True, read_only=True)
    website = serializers.CharField(read_only=True)  # a URL, or "" (so no "uri" format)
    name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = ClientProfile
        fields = [
            "public_id",
            "name",
            "kind",
            "company_name",
            "company_size",
            "website",
            "industry",
            "country",
            "timezone",
            "payment_method_verified",
            "jobs_posted_count",
            "hires_count",
            "total_spent_cents",
            "rating_avg",
            "reviews_count",
            "created_at",
        ]
        read_only_fields = fields


class ClientProfileInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClientKind.choices, required=False)
    company_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    company_size = serializers.ChoiceField(choices=CompanySize.choices, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=80, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)
    timezone = serializers.ChoiceField(choices=TIMEZONE_CHOICES, required=False)


class ErrorSerializer(serializers.Serializer):
    """The error envelope every 4xx answers with."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField()


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=200, style={"input_type": "password"}, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
