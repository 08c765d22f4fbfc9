"""Languages a freelancer can list (ISO 639-1 codes), most requested first."""

LANGUAGE_CHOICES = [
    ("en", "English"), ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("pt", "Portuguese"),
    ("it", "Italian"), ("nl", "Dutch"), ("ru", "Russian"), ("uk", "Ukrainian"), ("pl", "Polish"),
    ("zh", "Chinese"), ("ja", "Japanese"), ("ko", "Korean"), ("ar", "Arabic"), ("hi", "Hindi"),
    ("bn", "Bengali"), ("ur", "Urdu"), ("tr", "Turkish"), ("fa", "Persian"), ("he", "Hebrew"),
    ("id", "Indonesian"), ("ms", "Malay"), ("vi", "Vietnamese"), ("th", "Thai"), ("tl", "Filipino"),
    ("sv", "Swedish"), ("no", "Norwegian"), ("da", "Danish"), ("fi", "Finnish"), ("cs", "Czech"),
    ("sk", "Slovak"), ("hu", "Hungarian"), ("ro", "Romanian"), ("bg", "Bulgarian"), ("el", "Greek"),
    ("sr", "Serbian"), ("hr", "Croatian"), ("sw", "Swahili"), ("am", "Amharic"), ("yo", "Yoruba"),
    ("ta", "Tamil"), ("te", "Telugu"), ("mr", "Marathi"), ("ca", "Catalan"),
]
LANGUAGE_NAMES = dict(LANGUAGE_CHOICES)
