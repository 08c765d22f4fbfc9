"""Deterministic demo people for ``seed_demo``: names, titles and overviews by category."""

FIRST_NAMES = [
    "Amara", "Lucas", "Priya", "Mateo", "Chen", "Sofia", "Kwame", "Elena", "Yusuf", "Hana",
    "Diego", "Aisha", "Noah", "Ingrid", "Ravi", "Camila", "Tomasz", "Leila", "Kenji", "Zanele",
    "Oliver", "Fatima", "Andrei", "Mei", "Gabriel", "Nadia", "Samuel", "Lucia", "Emeka", "Freya",
    "Marco", "Anika", "Hugo", "Selin", "Jonas", "Imani", "Pablo", "Yara", "Ethan", "Olga",
]
LAST_NAMES = [
    "Okafor", "Silva", "Sharma", "Garcia", "Wei", "Rossi", "Mensah", "Popescu", "Demir", "Sato",
    "Fernandez", "Khan", "Schmidt", "Larsen", "Iyer", "Torres", "Nowak", "Haddad", "Tanaka", "Dlamini",
    "Brown", "Rahman", "Ionescu", "Lin", "Moreau", "Petrova", "Adeyemi", "Costa", "Eze", "Nielsen",
]
COUNTRIES = ["US", "GB", "IN", "BR", "NG", "PL", "UA", "DE", "PH", "KE", "ES", "CA", "PK", "EG", "AR", "VN"]
TIMEZONES = {
    "US": "America/New_York", "GB": "Europe/London", "IN": "Asia/Kolkata", "BR": "America/Sao_Paulo",
    "NG": "Africa/Lagos", "PL": "Europe/Warsaw", "UA": "Europe/Kyiv", "DE": "Europe/Berlin",
    "PH": "Asia/Manila", "KE": "Africa/Nairobi", "ES": "Europe/Madrid", "CA": "America/Toronto",
    "PK": "Asia/Karachi", "EG": "Africa/Cairo", "AR": "America/Argentina/Buenos_Aires", "VN": "Asia/Ho_Chi_Minh",
}
TITLE_TEMPLATES = [
    "{sub} specialist", "Senior {sub} consultant", "{sub} expert for startups", "Freelance {sub} professional",
    "{skill} and {skill2} specialist", "{skill} expert with {years}+ years of experience",
]
OVERVIEW_TEMPLATES = [
    "I help small businesses and startups with {sub_l}. Over the last {years} years I have delivered "
    "projects for clients in {n} countries, mostly with {skill} and {skill2}. I write clear updates, "
    "agree milestones up front and deliver on time. Tell me about your project and I will reply within a day.",
    "{years} years of hands-on {sub_l} work. My strengths are {skill}, {skill2} and careful communication: "
    "you always know what I am working on and what comes next. I prefer long-term collaborations, "
    "but I am happy to start with a small, well-defined task so that we can get to know each other.",
    "Detail-oriented {sub_l} professional. I have worked with agencies and in-house teams, and I now "
    "freelance full time. Typical projects: audits, quick fixes and larger builds using {skill} and "
    "{skill2}. I document what I do so your team can take over at any time.",
]
SCHOOLS = [
    ("University of Lagos", "BSc", "Computer Science"), ("University of Warsaw", "MA", "Linguistics"),
    ("Universidade de Sao Paulo", "BA", "Design"), ("IIT Bombay", "BTech", "Electrical Engineering"),
    ("University of Toronto", "BCom", "Accounting"), ("Kyiv Polytechnic Institute", "MSc", "Software Engineering"),
    ("University of Nairobi", "BA", "Economics"), ("Technical University of Munich", "MSc", "Data Engineering"),
    ("University of Manchester", "BA", "English Literature"), ("Cairo University", "BSc", "Statistics"),
]
COMPANIES = [
    "Northwind Digital", "Bluefin Labs", "Acme Retail", "Helios Media", "Quantum Ledger", "Greenfield Studio",
    "Orbit Logistics", "Sunrise Health", "Pioneer Analytics", "Copperleaf Agency",
]
CLIENT_COMPANIES = [
    ("Brightpath Learning", "Education", "10-99"), ("Harbor & Co", "Retail", "2-9"),
    ("Nimbus Software", "Software", "100-999"), ("Kettle Coffee Roasters", "Food and beverage", "2-9"),
    ("Vantage Health", "Healthcare", "1000+"), ("Pixel Forge Games", "Games", "10-99"),
    ("Meridian Legal", "Legal services", "10-99"), ("Atlas Freight", "Logistics", "100-999"),
]
