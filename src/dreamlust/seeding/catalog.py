"""Fixed vocabularies the demo data is drawn from: categories, tags, names and texts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DEMO_PASSWORD = "dreamlust-demo-password"  # noqa: S105 (the published demo password)
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@dreamlust.local"
MODERATOR_USERNAME = "moderator"
MODERATOR_EMAIL = "moderator@dreamlust.local"

IMAGE_BASE = "https://picsum.photos/seed"
MEDIA_BASE = "https://media.dreamlust.local/demo"
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True)
class CategorySpec:
    name: str
    slug: str
    description: str
    icon: str
    color: str
    is_active: bool = True
    mature: bool = False


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "Cinematic", "cinematic", "Short films and visual stories.", "clapperboard", "#E4572E"
    ),
    CategorySpec("Music", "music", "Original songs, covers and live sessions.", "music", "#7B2CBF"),
    CategorySpec(
        "Dance", "dance", "Choreography, freestyle and tutorials.", "footprints", "#F72585"
    ),
    CategorySpec(
        "Fitness & Wellness",
        "fitness-wellness",
        "Workouts, yoga and mindful movement.",
        "dumbbell",
        "#2A9D8F",
    ),
    CategorySpec(
        "Art & Illustration",
        "art-illustration",
        "Painting, drawing and digital art.",
        "palette",
        "#F4A261",
    ),
    CategorySpec(
        "Photography", "photography", "Photo sets, portraits and landscapes.", "camera", "#264653"
    ),
    CategorySpec(
        "Travel", "travel", "Places, journeys and hidden corners of the world.", "plane", "#3A86FF"
    ),
    CategorySpec(
        "Food & Cooking",
        "food-cooking",
        "Recipes, kitchens and tasting notes.",
        "utensils",
        "#FB8500",
    ),
    CategorySpec(
        "Gaming", "gaming", "Let's plays, speedruns and game art.", "gamepad-2", "#06D6A0"
    ),
    CategorySpec(
        "Comedy", "comedy", "Sketches, stand-up and everyday absurdity.", "laugh", "#FFD166"
    ),
    CategorySpec(
        "ASMR", "asmr", "Whispers, tapping and calm soundscapes.", "headphones", "#8ECAE6"
    ),
    CategorySpec(
        "Fashion & Beauty",
        "fashion-beauty",
        "Looks, lookbooks and makeup artistry.",
        "sparkles",
        "#FF006E",
    ),
    CategorySpec(
        "Education", "education", "Explainers, lessons and deep dives.", "graduation-cap", "#118AB2"
    ),
    CategorySpec(
        "Behind the Scenes", "behind-the-scenes", "How the work gets made.", "film", "#6C757D"
    ),
    CategorySpec(
        "Virtual Reality",
        "virtual-reality",
        "Immersive 180° and 360° experiences.",
        "glasses",
        "#5E60CE",
    ),
    CategorySpec(
        "Nature & Outdoors", "nature-outdoors", "Forests, oceans and wildlife.", "trees", "#52B788"
    ),
    CategorySpec(
        "After Dark",
        "after-dark",
        "Mature content for adult audiences.",
        "moon",
        "#3C096C",
        mature=True,
    ),
    CategorySpec(
        "Podcasts", "podcasts", "Conversations and audio shows.", "mic", "#9D4EDD", is_active=False
    ),
)

TAGS: tuple[str, ...] = (
    "4k",
    "hdr",
    "slow motion",
    "timelapse",
    "drone",
    "cinematic",
    "vlog",
    "tutorial",
    "beginner friendly",
    "advanced",
    "live session",
    "acoustic",
    "electronic",
    "lofi",
    "jazz",
    "piano",
    "guitar",
    "vocals",
    "remix",
    "cover",
    "choreography",
    "freestyle",
    "hip hop",
    "ballet",
    "contemporary",
    "yoga",
    "pilates",
    "hiit",
    "stretching",
    "meditation",
    "breathwork",
    "watercolor",
    "oil painting",
    "digital art",
    "sketchbook",
    "speedpaint",
    "portrait",
    "landscape",
    "street photography",
    "black and white",
    "film photography",
    "golden hour",
    "night sky",
    "city",
    "beach",
    "mountains",
    "road trip",
    "hidden gems",
    "street food",
    "baking",
    "vegan",
    "recipe",
    "wine",
    "coffee",
    "speedrun",
    "retro games",
    "indie games",
    "walkthrough",
    "sketch comedy",
    "stand-up",
    "parody",
    "whisper",
    "tapping",
    "rain sounds",
    "binaural",
    "sleep",
    "makeup",
    "lookbook",
    "streetwear",
    "vintage",
    "skincare",
    "explainer",
    "science",
    "history",
    "language learning",
    "studio tour",
    "bloopers",
    "making of",
    "gear review",
    "vr180",
    "vr360",
    "immersive",
    "spatial audio",
    "wildlife",
    "forest",
    "ocean",
    "camping",
    "sensual",
    "boudoir",
    "romance",
    "artistic nude",
    "couples",
    "fantasy",
    "cosplay",
    "exclusive",
    "premiere",
    "series",
    "q&a",
)

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah",
    "Adrian",
    "Aiko",
    "Alba",
    "Alejandro",
    "Amara",
    "Anika",
    "Arjun",
    "Astrid",
    "Ayla",
    "Bastian",
    "Beatriz",
    "Bodhi",
    "Camille",
    "Chidi",
    "Chloe",
    "Dario",
    "Delphine",
    "Diego",
    "Elif",
    "Elena",
    "Emeka",
    "Emil",
    "Esme",
    "Farah",
    "Felix",
    "Freya",
    "Gael",
    "Hana",
    "Hugo",
    "Imani",
    "Ines",
    "Isaac",
    "Ivy",
    "Jonas",
    "Juno",
    "Kai",
    "Kenji",
    "Lena",
    "Leo",
    "Lina",
    "Luca",
    "Luna",
    "Maya",
    "Mateo",
    "Mila",
    "Nadia",
    "Naomi",
    "Nico",
    "Nora",
    "Omar",
    "Oskar",
    "Priya",
    "Quinn",
    "Rafael",
    "Rosa",
    "Sasha",
    "Selin",
    "Soren",
    "Tariq",
    "Thea",
    "Valentina",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
)

LAST_NAMES: tuple[str, ...] = (
    "Abara",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Fontaine",
    "Garcia",
    "Haddad",
    "Hansen",
    "Ito",
    "Jensen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Laurent",
    "Lindqvist",
    "Martin",
    "Moreau",
    "Mendes",
    "Nakamura",
    "Novak",
    "Okafor",
    "Oliveira",
    "Park",
    "Petrov",
    "Quinn",
    "Rahman",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Sato",
    "Takahashi",
    "Tanaka",
    "Varga",
    "Vogel",
    "Walsh",
    "Weber",
    "Yilmaz",
    "Zhang",
    "Zielinski",
)

STUDIO_WORDS: tuple[str, ...] = (
    "Studio",
    "Sessions",
    "Visuals",
    "Lab",
    "Collective",
    "Works",
    "Diaries",
    "Frames",
    "Sound",
    "Motion",
    "Atelier",
    "House",
)

LOCATIONS: tuple[str, ...] = (
    "Berlin, Germany",
    "Lisbon, Portugal",
    "Barcelona, Spain",
    "Paris, France",
    "Amsterdam, Netherlands",
    "Copenhagen, Denmark",
    "Stockholm, Sweden",
    "Prague, Czechia",
    "Vienna, Austria",
    "Milan, Italy",
    "London, UK",
    "Dublin, Ireland",
    "New York, USA",
    "Los Angeles, USA",
    "Austin, USA",
    "Montreal, Canada",
    "Mexico City, Mexico",
    "São Paulo, Brazil",
    "Buenos Aires, Argentina",
    "Lagos, Nigeria",
    "Cape Town, South Africa",
    "Istanbul, Türkiye",
    "Dubai, UAE",
    "Mumbai, India",
    "Bangkok, Thailand",
    "Seoul, South Korea",
    "Tokyo, Japan",
    "Sydney, Australia",
    "Melbourne, Australia",
    "Auckland, New Zealand",
)

USER_BIOS: tuple[str, ...] = (
    "Here for the music and the late-night uploads.",
    "Collecting playlists like other people collect stamps.",
    "Amateur photographer, professional coffee drinker.",
    "Always looking for the next great short film.",
    "Yoga in the morning, VR at night.",
    "I comment on everything. Sorry in advance.",
    "Supporting independent creators since day one.",
    "Just here to learn something new every week.",
)

CREATOR_BIOS: tuple[str, ...] = (
    "Independent creator making {topic} for curious people. New uploads every week.",
    "{topic} with a cinematic eye. Subscribe for exclusives and behind-the-scenes.",
    "Full-time creator, part-time dreamer. Mostly {topic}, sometimes chaos.",
    "Award-winning {topic}. Commissions open; tips keep the lights on.",
    "Sharing {topic} from my small studio. Thank you for being here.",
)

ADJECTIVES: tuple[str, ...] = (
    "Golden",
    "Midnight",
    "Quiet",
    "Electric",
    "Velvet",
    "Hidden",
    "Endless",
    "Neon",
    "Wild",
    "Gentle",
    "Lucid",
    "Crimson",
    "Silver",
    "Secret",
    "Slow",
    "Bright",
    "Distant",
    "Sunlit",
    "Moonlit",
    "Restless",
    "Tender",
    "Open",
    "Soft",
    "Bold",
)

SUBJECTS: tuple[str, ...] = (
    "Horizons",
    "Dreams",
    "Rooftops",
    "Waves",
    "Streets",
    "Gardens",
    "Echoes",
    "Mornings",
    "Tides",
    "Lights",
    "Whispers",
    "Shadows",
    "Rhythms",
    "Voyages",
    "Reflections",
    "Colors",
    "Skylines",
    "Forests",
    "Harbors",
    "Studios",
    "Rituals",
    "Stories",
    "Portraits",
    "Nights",
)

TITLE_PATTERNS: dict[str, tuple[str, ...]] = {
    "VIDEO": (
        "{adj} {subject}",
        "{adj} {subject}: A Short Film",
        "Making {adj} {subject}",
        "{subject} in 4K",
        "A Day of {subject}",
    ),
    "PHOTO": (
        "{adj} {subject} — Photo Set",
        "{subject}, Vol. {number}",
        "{adj} {subject} Portrait Series",
        "Contact Sheet: {subject}",
    ),
    "VR": (
        "{adj} {subject} (VR 180°)",
        "Immersive {subject} 360°",
        "Step Inside: {adj} {subject}",
    ),
    "AUDIO": (
        "{adj} {subject} (Extended Mix)",
        "{subject} — Ambient Session",
        "Whispered {subject}",
        "{adj} {subject}, Episode {number}",
    ),
    "LIVE_STREAM": (
        "Live: {adj} {subject}",
        "Friday Night Live — {subject}",
        "Q&A Stream: {adj} {subject}",
    ),
}

DESCRIPTIONS: tuple[str, ...] = (
    "Shot over three days with a tiny crew and a lot of patience.",
    "Best enjoyed with headphones and the lights down low.",
    "Thank you to everyone who voted for this one in the last poll.",
    "Full-length version for supporters; the teaser is free for everyone.",
    "A new experiment with light and colour — tell me what you think.",
    "Recorded in one take, no edits, no retakes.",
    "This one took months to get right. Hope it was worth the wait.",
    "Part of an ongoing series; earlier episodes are in my playlists.",
    "Inspired by your comments on the last upload.",
    "Raw, unpolished and honest. Just how I like it.",
)

COMMENTS: tuple[str, ...] = (
    "This is stunning, the colours are unreal.",
    "Watched it three times already.",
    "How did you get that shot at the end?",
    "Instant favourite, adding it to my playlist.",
    "The sound design on this is incredible.",
    "Been waiting for this all week!",
    "You keep getting better with every upload.",
    "That transition at 0:42 gave me chills.",
    "Can you do a behind-the-scenes for this one?",
    "Pure art. Thank you for sharing.",
    "The lighting here is perfect.",
    "More of this please!",
    "Subscribed just for this series.",
    "Came for the thumbnail, stayed for everything else.",
    "Needed this today.",
    "What gear do you use?",
    "The pacing is so calm, love it.",
    "First time here and I'm hooked.",
    "This deserves way more views.",
    "Sharing this with all my friends.",
)

REPLIES: tuple[str, ...] = (
    "Agreed, completely.",
    "Same here!",
    "Thank you so much, that means a lot!",
    "Good question, I'd love to know too.",
    "Thanks for watching! More coming soon.",
    "The gear list is in the description.",
    "Haha, exactly what I thought.",
    "Right? I can't stop rewatching it.",
    "Behind-the-scenes is coming next month!",
    "Glad you enjoyed it!",
)

PLAYLIST_NAMES: tuple[str, ...] = (
    "Favourites",
    "Watch Later",
    "Late Night",
    "Inspiration",
    "Chill Vibes",
    "Workout Mix",
    "VR Picks",
    "Best of the Month",
    "Study Session",
    "Weekend Binge",
    "To Share",
    "Top Shelf",
)

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) "
    "OculusBrowser/35.0 Chrome/130.0 VR Safari/537.36",
    "dreamlust-ios/2.4.1 (iPhone15,2; iOS 18.1)",
    "dreamlust-android/2.4.0 (Pixel 8; Android 15)",
)

REPORT_REASONS: dict[str, tuple[str, ...]] = {
    "SPAM": ("Repeated promotional links", "Same comment posted everywhere"),
    "HARASSMENT": ("Targeting another user in comments", "Abusive messages"),
    "INAPPROPRIATE_CONTENT": ("Not marked as NSFW", "Graphic thumbnail"),
    "COPYRIGHT_VIOLATION": ("Uses my music without permission", "Re-upload of my video"),
    "FAKE_ACCOUNT": ("Impersonating a known creator", "Stolen profile pictures"),
    "UNDERAGE": ("Account holder appears to be under 18",),
    "OTHER": ("Misleading title", "Broken media"),
}

SUBSCRIPTION_PRICES: tuple[tuple[Decimal, Decimal, Decimal], ...] = (
    (Decimal("4.99"), Decimal("9.99"), Decimal("24.99")),
    (Decimal("3.00"), Decimal("8.00"), Decimal("20.00")),
    (Decimal("5.99"), Decimal("14.99"), Decimal("49.99")),
    (Decimal("2.49"), Decimal("6.99"), Decimal("15.00")),
)
TIER_BENEFITS: tuple[tuple[str, ...], ...] = (
    ("Every premium post", "Subscriber badge"),
    ("Every premium post", "Early access to new uploads", "Monthly behind-the-scenes"),
    ("Every premium post", "Early access", "Monthly live Q&A", "Personal thank-you message"),
)
PREMIUM_PRICES: tuple[Decimal, ...] = (
    Decimal("1.99"),
    Decimal("2.99"),
    Decimal("4.99"),
    Decimal("7.50"),
    Decimal("9.99"),
    Decimal("14.99"),
)
TIP_AMOUNTS: tuple[Decimal, ...] = (
    Decimal("1.00"),
    Decimal("2.00"),
    Decimal("5.00"),
    Decimal("10.00"),
    Decimal("20.00"),
    Decimal("50.00"),
)
TIP_MESSAGES: tuple[str, ...] = (
    "Thank you for the amazing work!",
    "Coffee is on me.",
    "Keep creating!",
    "Loved the last upload.",
)
CURRENCIES: tuple[str, ...] = ("USD", "USD", "USD", "EUR", "EUR", "GBP")
