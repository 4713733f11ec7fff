"""Real sentences in many languages and scripts, written for these tests.

The same four sentences (library hours, a new frog species, grandmother's
bread, the airport train) in each language, so documents built from them are
comparable across scripts.
"""

from __future__ import annotations

import json
from pathlib import Path

SENTENCES: dict[str, list[str]] = {
    "en": [
        "The city library opens at nine in the morning and closes at six in the evening.",
        "Scientists have discovered a new species of frog in the rainforests of Ecuador.",
        "My grandmother taught me how to bake bread when I was a child.",
        "The train to the airport leaves every fifteen minutes from the central station.",
    ],
    "de": [
        "Die Stadtbibliothek öffnet um neun Uhr morgens und schließt um sechs Uhr abends.",
        "Wissenschaftler haben in den Regenwäldern Ecuadors eine neue Froschart entdeckt.",
        "Meine Großmutter hat mir als Kind beigebracht, wie man Brot backt.",
        "Der Zug zum Flughafen fährt alle fünfzehn Minuten vom Hauptbahnhof ab.",
    ],
    "fr": [
        "La bibliothèque municipale ouvre à neuf heures du matin et ferme à six heures du soir.",
        "Des scientifiques ont découvert une nouvelle espèce de grenouille dans les forêts "
        "tropicales de l'Équateur.",
        "Ma grand-mère m'a appris à faire du pain quand j'étais enfant.",
        "Le train pour l'aéroport part de la gare centrale toutes les quinze minutes.",
    ],
    "es": [
        "La biblioteca municipal abre a las nueve de la mañana y cierra a las seis de la tarde.",
        "Los científicos han descubierto una nueva especie de rana en las selvas tropicales "
        "de Ecuador.",
        "Mi abuela me enseñó a hacer pan cuando era niño.",
        "El tren al aeropuerto sale de la estación central cada quince minutos.",
    ],
    "tr": [
        "Şehir kütüphanesi sabah dokuzda açılıyor ve akşam altıda kapanıyor.",
        "Bilim insanları Ekvador'un yağmur ormanlarında yeni bir kurbağa türü keşfetti.",
        "Büyükannem bana çocukken ekmek yapmayı öğretti.",
        "Havalimanına giden tren merkez istasyondan her on beş dakikada bir kalkıyor.",
    ],
    "vi": [
        "Thư viện thành phố mở cửa lúc chín giờ sáng và đóng cửa lúc sáu giờ tối.",
        "Các nhà khoa học đã phát hiện một loài ếch mới trong rừng nhiệt đới của Ecuador.",
        "Bà tôi đã dạy tôi cách làm bánh mì khi tôi còn nhỏ.",
        "Tàu đi sân bay khởi hành từ ga trung tâm mười lăm phút một chuyến.",
    ],
    "ru": [
        "Городская библиотека открывается в девять часов утра и закрывается в шесть часов "
        "вечера.",
        "Учёные обнаружили новый вид лягушек в тропических лесах Эквадора.",
        "Бабушка научила меня печь хлеб, когда я был ребёнком.",
        "Поезд в аэропорт отправляется с центрального вокзала каждые пятнадцать минут.",
    ],
    "uk": [
        "Міська бібліотека відчиняється о дев'ятій ранку і зачиняється о шостій вечора.",
        "Науковці виявили новий вид жаб у тропічних лісах Еквадору.",
        "Моя бабуся навчила мене пекти хліб, коли я був дитиною.",
        "Потяг до аеропорту відправляється з центрального вокзалу кожні п'ятнадцять хвилин.",
    ],
    "ar": [
        "تفتح المكتبة العامة أبوابها في الساعة التاسعة صباحاً وتغلق في الساعة السادسة مساءً.",
        "اكتشف العلماء نوعاً جديداً من الضفادع في الغابات المطيرة في الإكوادور.",
        "علمتني جدتي كيف أخبز الخبز عندما كنت طفلاً.",
        "يغادر القطار المتجه إلى المطار من المحطة المركزية كل خمس عشرة دقيقة.",
    ],
    "fa": [
        "کتابخانه شهر ساعت نه صبح باز می‌شود و ساعت شش عصر بسته می‌شود.",
        "دانشمندان گونه جدیدی از قورباغه را در جنگل‌های بارانی اکوادور کشف کرده‌اند.",
        "مادربزرگم وقتی بچه بودم به من یاد داد که چطور نان بپزم.",
        "قطار فرودگاه هر پانزده دقیقه از ایستگاه مرکزی حرکت می‌کند.",
    ],
    "hi": [
        "शहर का पुस्तकालय सुबह नौ बजे खुलता है और शाम छह बजे बंद होता है।",
        "वैज्ञानिकों ने इक्वाडोर के वर्षावनों में मेंढक की एक नई प्रजाति की खोज की है।",
        "जब मैं बच्चा था तब मेरी दादी ने मुझे रोटी बनाना सिखाया।",
        "हवाई अड्डे के लिए ट्रेन हर पंद्रह मिनट में मुख्य स्टेशन से निकलती है।",
    ],
    "zh": [
        "市图书馆早上九点开门，晚上六点关门。",
        "科学家在厄瓜多尔的热带雨林中发现了一种新的青蛙。",
        "我小时候，奶奶教我怎么做面包。",
        "去机场的火车每十五分钟从中央车站发车一次。",
    ],
    "ja": [
        "市立図書館は朝九時に開館し、夕方六時に閉館します。",
        "科学者たちはエクアドルの熱帯雨林で新種のカエルを発見しました。",
        "子供のころ、祖母がパンの焼き方を教えてくれました。",
        "空港行きの電車は中央駅から十五分ごとに出発します。",
    ],
    "ko": [
        "시립 도서관은 아침 아홉 시에 문을 열고 저녁 여섯 시에 문을 닫습니다.",
        "과학자들은 에콰도르의 열대 우림에서 새로운 종의 개구리를 발견했습니다.",
        "어렸을 때 할머니께서 빵 굽는 법을 가르쳐 주셨습니다.",
        "공항으로 가는 기차는 중앙역에서 15분마다 출발합니다.",
    ],
    "th": [
        "ห้องสมุดเมืองเปิดเวลาเก้าโมงเช้าและปิดเวลาหกโมงเย็น",
        "นักวิทยาศาสตร์ค้นพบกบสายพันธุ์ใหม่ในป่าฝนเขตร้อนของเอกวาดอร์",
        "ตอนที่ฉันยังเด็ก คุณยายสอนฉันทำขนมปัง",
        "รถไฟไปสนามบินออกจากสถานีกลางทุกสิบห้านาที",
    ],
    "el": [
        "Η δημοτική βιβλιοθήκη ανοίγει στις εννέα το πρωί και κλείνει στις έξι το απόγευμα.",
        "Οι επιστήμονες ανακάλυψαν ένα νέο είδος βατράχου στα τροπικά δάση του Ισημερινού.",
        "Η γιαγιά μου με έμαθε να ψήνω ψωμί όταν ήμουν παιδί.",
        "Το τρένο για το αεροδρόμιο αναχωρεί από τον κεντρικό σταθμό κάθε δεκαπέντε λεπτά.",
    ],
    "he": [
        "הספרייה העירונית נפתחת בתשע בבוקר ונסגרת בשש בערב.",
        "מדענים גילו מין חדש של צפרדע ביערות הגשם של אקוודור.",
        "סבתא שלי לימדה אותי לאפות לחם כשהייתי ילד.",
        "הרכבת לשדה התעופה יוצאת מהתחנה המרכזית כל רבע שעה.",
    ],
    "hy": [
        "Քաղաքային գրադարանը բացվում է առավոտյան ժամը ինին և փակվում երեկոյան ժամը վեցին։",
        "Երևանը Հայաստանի մայրաքաղաքն է։",
    ],
    "ka": [
        "ქალაქის ბიბლიოთეკა დილის ცხრა საათზე იხსნება და საღამოს ექვს საათზე იკეტება.",
        "თბილისი საქართველოს დედაქალაქია.",
    ],
}

# Separator between sentences as the language writes it (Thai: a space).
JOIN = {"zh": "", "ja": "", "th": " "}

XQUAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xquad"


def xquad_paragraphs(lang: str) -> list[str]:
    """The 240 XQuAD paragraphs in ``lang`` ([] when the data or the language is absent)."""
    path = XQUAD / "parallel_paragraphs.jsonl"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["context"].get(lang) for line in fh if line.strip()]
    return [t for t in texts if t]


def long_document(lang: str, min_chars: int = 20_000) -> str:
    """Paragraphs of real text in ``lang``: XQuAD when present (en ar de el es
    hi ro ru th tr vi zh), our own sentences otherwise, repeated to length."""
    paragraphs = xquad_paragraphs(lang) if lang in _XQUAD_LANGS else []
    if not paragraphs:
        sep = JOIN.get(lang, " ")
        paragraphs = [sep.join(SENTENCES[lang][i:] + SENTENCES[lang][:i]) for i in range(4)]
    out: list[str] = []
    size = 0
    while size < min_chars:
        for p in paragraphs:
            out.append(p)
            size += len(p) + 2
            if size >= min_chars:
                break
    return "\n\n".join(out)


_XQUAD_LANGS = {"en", "ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}
