"""The fixed probe set of the export parity gate.

Sentences written for this project in 14 languages and 10 scripts: short ones,
medium ones, tricky ones (full-width punctuation, zero-width characters,
combining marks, emoji, control characters, runs of spaces) and a few long ones
that reach past the 512-token window so truncation is exercised in both the
reference and the ONNX path. Changing this list changes every new bundle's
parity figures; keep it stable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    text: str
    lang: str
    script: str


_BY_LANG: dict[tuple[str, str], list[str]] = {
    ("en", "Latin"): [
        "The train to the airport leaves every twenty minutes.",
        "How much protein should an adult eat per day?",
        "She planted tomatoes, beans and a row of sunflowers behind the house.",
        "Quarterly revenue rose by 4.5% despite higher shipping costs.",
        "Ok.",
        "Can you recommend a quiet hotel near the old harbour?",
    ],
    ("de", "Latin"): [
        "Der Zug zum Flughafen fährt alle zwanzig Minuten.",
        "Wie viel Eiweiß sollte ein Erwachsener pro Tag essen?",
        "Die Straßenbahn ist heute wegen Bauarbeiten umgeleitet worden.",
        "Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.",
        "Ich habe meinen Regenschirm im Büro vergessen.",
    ],
    ("fr", "Latin"): [
        "Le train pour l'aéroport part toutes les vingt minutes.",
        "Combien de protéines un adulte doit-il manger par jour ?",
        "Elle a planté des tomates, des haricots et une rangée de tournesols.",
        "« Où est la gare ? » demanda-t-il à l'épicière.",
        "Noël approche : les vitrines s'illuminent déjà.",
    ],
    ("es", "Latin"): [
        "El tren al aeropuerto sale cada veinte minutos.",
        "¿Cuánta proteína debe comer un adulto al día?",
        "La niña pequeña jugaba con su perro en el jardín.",
        "¡Qué sorpresa verte aquí después de tantos años!",
        "Mañana lloverá en el norte de España.",
    ],
    ("tr", "Latin"): [
        "Havalimanına giden tren her yirmi dakikada bir kalkar.",
        "Bir yetişkin günde ne kadar protein yemeli?",
        "İstanbul'da ılık bir sonbahar günüydü.",
        "Çocuklar bahçede top oynuyor.",
    ],
    ("ru", "Cyrillic"): [
        "Поезд в аэропорт отправляется каждые двадцать минут.",
        "Сколько белка должен съедать взрослый человек в день?",
        "Она посадила помидоры, фасоль и ряд подсолнухов за домом.",
        "Ёжик в тумане — мой любимый мультфильм.",
        "Москва.",
    ],
    ("uk", "Cyrillic"): [
        "Потяг до аеропорту відправляється кожні двадцять хвилин.",
        "Скільки білка має їсти доросла людина на день?",
        "Ґанок старої хати заріс виноградом.",
    ],
    ("el", "Greek"): [
        "Το τρένο για το αεροδρόμιο αναχωρεί κάθε είκοσι λεπτά.",
        "Πόση πρωτεΐνη πρέπει να τρώει ένας ενήλικας την ημέρα;",
        "Η θάλασσα ήταν ήρεμη και ζεστή το απόγευμα.",
        "Καλημέρα!",
    ],
    ("ar", "Arabic"): [
        "يغادر القطار إلى المطار كل عشرين دقيقة.",
        "كم من البروتين يجب أن يأكل البالغ في اليوم؟",
        "زرعت الطماطم والفاصوليا وصفاً من عباد الشمس خلف المنزل.",
        "مَرْحَبًا بِكُمْ فِي الْمَدِينَةِ",
        "شكراً",
    ],
    ("he", "Hebrew"): [
        "הרכבת לשדה התעופה יוצאת כל עשרים דקות.",
        "כמה חלבון צריך מבוגר לאכול ביום?",
        "היא שתלה עגבניות ושעועית מאחורי הבית.",
        "שָׁלוֹם עֲלֵיכֶם",
    ],
    ("hi", "Devanagari"): [
        "हवाई अड्डे के लिए ट्रेन हर बीस मिनट में निकलती है।",
        "एक वयस्क को प्रतिदिन कितना प्रोटीन खाना चाहिए?",
        "उसने घर के पीछे टमाटर और सूरजमुखी लगाए।",
        "नमस्ते",
    ],
    ("zh", "Han"): [
        "去机场的火车每二十分钟一班。",
        "成年人每天应该吃多少蛋白质？",
        "她在房子后面种了西红柿、豆子和一排向日葵。",
        "北京",
        "這是一個繁體中文的句子，用來測試分詞。",
    ],
    ("ja", "Kana"): [
        "空港行きの電車は二十分ごとに出発します。",
        "大人は一日にどれくらいのタンパク質を食べるべきですか？",
        "カタカナのコーヒーとひらがなのおちゃ。",
        "ｶﾀｶﾅ（半角）とＡＢＣ（全角）。",
        "ありがとう",
    ],
    ("ko", "Hangul"): [
        "공항으로 가는 기차는 이십 분마다 출발합니다.",
        "성인은 하루에 단백질을 얼마나 먹어야 하나요?",
        "그녀는 집 뒤에 토마토와 해바라기를 심었다.",
        "안녕하세요",
    ],
    ("th", "Thai"): [
        "รถไฟไปสนามบินออกทุกยี่สิบนาที",
        "ผู้ใหญ่ควรกินโปรตีนวันละเท่าไร",
        "เธอปลูกมะเขือเทศและดอกทานตะวันไว้หลังบ้าน",
        "สวัสดีครับ",
    ],
}

# Text that stresses normalisation and tokenisation edge cases.
_TRICKY: list[tuple[str, str, str]] = [
    ("Ｆｕｌｌ－ｗｉｄｔｈ　ｔｅｘｔ！　Ｈｏｗ　ａｒｅ　ｙｏｕ？", "en", "Latin"),
    ("zero\u200bwidth\u200cjoiner\u200dtest\ufeff here", "en", "Latin"),
    ("I love pizza 🍕🍕 and coffee ☕ 👩‍💻 🇫🇷", "en", "Latin"),
    ("tabs\tand\nnewlines\r\nand    many     spaces", "en", "Latin"),
    ("control\x07char\x1bs and a\u00a0no-break space", "en", "Latin"),
    ("e\u0301le\u0300ve (combining) vs élève (precomposed) ﬁ ligature ½ ²", "fr", "Latin"),
    ("「東京」は、日本の首都です。！？", "ja", "Kana"),
    ("ﻣﺮﺣﺒﺎ presentation forms and ١٢٣ digits", "ar", "Arabic"),
    ("mixed: Hello Привет Γειά שלום مرحبا नमस्ते 你好 こんにちは 안녕 สวัสดี", "en", "Latin"),
    ("", "en", "Latin"),
]

_LONG_BASE: dict[tuple[str, str], str] = {
    ("en", "Latin"): (
        "The committee met on Tuesday to review the budget for the coming year, and after "
        "a long discussion about maintenance costs, library hours and the new bicycle lanes, "
        "it agreed to postpone the final vote until the public had been consulted. "
    ),
    ("de", "Latin"): (
        "Der Ausschuss traf sich am Dienstag, um den Haushalt für das kommende Jahr zu prüfen, "
        "und nach einer langen Diskussion über Instandhaltungskosten und neue Radwege "
        "beschloss er, die endgültige Abstimmung zu verschieben. "
    ),
    ("ru", "Cyrillic"): (
        "Комитет собрался во вторник, чтобы рассмотреть бюджет на следующий год, и после "
        "долгого обсуждения расходов на содержание и новых велосипедных дорожек решил "
        "отложить окончательное голосование. "
    ),
    ("zh", "Han"): (
        "委员会星期二开会审查明年的预算，在就维护费用、图书馆开放时间和新的自行车道进行"
        "长时间讨论后，决定推迟最终投票，直到征求公众意见为止。"
    ),
}
# Repeat counts chosen so the texts land below, near and beyond 512 tokens
# of the e5 tokenizer (about 45, 40, 45, 40 tokens per repetition).
_LONG_REPEATS = {"en": 8, "de": 13, "ru": 16, "zh": 24}


def _build() -> tuple[Probe, ...]:
    out = [Probe(t, lang, script) for (lang, script), ts in _BY_LANG.items() for t in ts]
    out += [Probe(t, lang, script) for t, lang, script in _TRICKY]
    out += [
        Probe((text * _LONG_REPEATS[lang]).strip(), lang, script)
        for (lang, script), text in _LONG_BASE.items()
    ]
    return tuple(out)


PROBES: tuple[Probe, ...] = _build()


def probe_texts() -> list[str]:
    return [p.text for p in PROBES]


def probe_stats() -> dict[str, int]:
    """Counts stored in the manifest next to the parity figures."""
    return {
        "probe_sentences": len(PROBES),
        "languages": len({p.lang for p in PROBES}),
        "scripts": len({p.script for p in PROBES}),
    }
