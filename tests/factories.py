"""Factories for leaf data. State that has rules (profiles, attempts) is built through services."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from accounts import services
from accounts.models import Category, Role, Skill, Subcategory, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Test category {n}")
    slug = factory.Sequence(lambda n: f"test-category-{n}")


class SubcategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subcategory

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Test specialty {n}")
    slug = factory.Sequence(lambda n: f"test-specialty-{n}")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    subcategory = factory.SubFactory(SubcategoryFactory)
    name = factory.Sequence(lambda n: f"Test skill {n}")
    slug = factory.Sequence(lambda n: f"test-skill-{n}")


def make_freelancer(**user_kwargs) -> User:
    """A verified user whose active role is freelancer, with an empty profile."""
    user = UserFactory(**user_kwargs)
    services.user_complete_signup(
        user=user,
        role=Role.FREELANCER,
        first_name=user.first_name or "Free",
        last_name=user.last_name or "Lancer",
    )
    return user


def make_client(**user_kwargs) -> User:
    user = UserFactory(**user_kwargs)
    services.user_complete_signup(
        user=user, role=Role.CLIENT, first_name=user.first_name or "Cli", last_name=user.last_name or "Ent"
    )
    return user


def make_staff(**user_kwargs) -> User:
    user = UserFactory(is_staff=True, is_superuser=True, **user_kwargs)
    services.user_complete_signup(user=user, role=Role.CLIENT, first_name="Staff", last_name="Member")
    return user


def make_published_freelancer(**user_kwargs) -> User:
    """A freelancer with every required part filled in and the profile published."""
    user = make_freelancer(**user_kwargs)
    skill = Skill.objects.order_by("pk").first() or SkillFactory()
    services.freelancer_profile_update(
        actor=user,
        title="Django developer",
        category_id=skill.subcategory.category_id,
        subcategory_id=skill.subcategory_id,
        hourly_rate_cents=5000,
        overview="I build Django applications for small companies. " * 4,
        country="PL",
    )
    services.freelancer_profile_set_skills(actor=user, skill_ids=[skill.pk])
    services.language_set(actor=user, language="en", proficiency="fluent")
    services.freelancer_profile_publish(actor=user)
    user.refresh_from_db()
    return user
