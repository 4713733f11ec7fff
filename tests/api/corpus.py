"""A small parallel corpus: four topics, each written in six languages (two scripts RTL/CJK)."""

from __future__ import annotations

TOPICS: dict[str, dict[str, tuple[str, str]]] = {
    "train": {
        "en": ("Train timetable", "The next train to the airport leaves from platform four at "
               "half past seven. Trains run every twenty minutes until midnight."),
        "de": ("Zugfahrplan", "Der nächste Zug zum Flughafen fährt um halb acht von Gleis vier "
               "ab. Die Züge fahren bis Mitternacht alle zwanzig Minuten."),
        "fr": ("Horaires des trains", "Le prochain train pour l'aéroport part du quai quatre à "
               "sept heures et demie. Les trains circulent toutes les vingt minutes jusqu'à "
               "minuit."),
        "ar": ("جدول مواعيد القطارات", "يغادر القطار التالي إلى المطار من الرصيف الرابع في "
               "السابعة والنصف. تسير القطارات كل عشرين دقيقة حتى منتصف الليل."),
        "ja": ("電車の時刻表", "空港行きの次の電車は七時半に四番線から出発します。電車は真夜中まで"
               "二十分ごとに運行しています。"),
        "ru": ("Расписание поездов", "Следующий поезд в аэропорт отправляется с четвёртой "
               "платформы в половине восьмого. Поезда ходят каждые двадцать минут до полуночи."),
    },
    "bread": {
        "en": ("Baking bread at home", "Mix flour, water, salt and yeast, knead the dough for "
               "ten minutes and let it rise for two hours before baking it in a hot oven."),
        "de": ("Brot zu Hause backen", "Mehl, Wasser, Salz und Hefe mischen, den Teig zehn "
               "Minuten kneten und zwei Stunden gehen lassen, bevor er im heißen Ofen gebacken "
               "wird."),
        "fr": ("Faire son pain à la maison", "Mélangez la farine, l'eau, le sel et la levure, "
               "pétrissez la pâte dix minutes et laissez-la lever deux heures avant de la cuire "
               "dans un four chaud."),
        "ar": ("خبز الخبز في المنزل", "اخلط الدقيق والماء والملح والخميرة، واعجن العجين لمدة "
               "عشر دقائق واتركه يتخمر ساعتين قبل خبزه في فرن ساخن."),
        "ja": ("家でパンを焼く", "小麦粉、水、塩、イーストを混ぜ、生地を十分間こねて、"
               "熱いオーブンで焼く前に二時間発酵させます。"),
        "ru": ("Домашний хлеб", "Смешайте муку, воду, соль и дрожжи, месите тесто десять минут "
               "и дайте ему подняться два часа, прежде чем выпекать в горячей духовке."),
    },
    "volcano": {
        "en": ("Volcano eruption", "The volcano erupted last night, sending ash high into the "
               "sky; nearby villages were evacuated and flights were cancelled."),
        "de": ("Vulkanausbruch", "Der Vulkan ist letzte Nacht ausgebrochen und hat Asche hoch in "
               "den Himmel geschleudert; nahe Dörfer wurden evakuiert und Flüge gestrichen."),
        "fr": ("Éruption volcanique", "Le volcan est entré en éruption la nuit dernière, "
               "projetant des cendres dans le ciel ; les villages voisins ont été évacués et les "
               "vols annulés."),
        "ar": ("ثوران بركان", "ثار البركان الليلة الماضية وقذف الرماد عالياً في السماء، وتم "
               "إخلاء القرى المجاورة وإلغاء الرحلات الجوية."),
        "ja": ("火山の噴火", "昨夜火山が噴火し、火山灰が空高く舞い上がりました。近くの村は避難し、"
               "飛行機は欠航しました。"),
        "ru": ("Извержение вулкана", "Вчера ночью произошло извержение вулкана, пепел поднялся "
               "высоко в небо; близлежащие деревни эвакуированы, рейсы отменены."),
    },
    "football": {
        "en": ("Football final", "The home team won the championship final two to one with a "
               "goal in the last minute of the match."),
        "de": ("Fußballfinale", "Die Heimmannschaft gewann das Meisterschaftsfinale mit zwei zu "
               "eins durch ein Tor in der letzten Minute des Spiels."),
        "fr": ("Finale de football", "L'équipe locale a remporté la finale du championnat deux "
               "à un grâce à un but à la dernière minute du match."),
        "ar": ("نهائي كرة القدم", "فاز الفريق المضيف بنهائي البطولة بهدفين مقابل هدف بفضل هدف "
               "في الدقيقة الأخيرة من المباراة."),
        "ja": ("サッカーの決勝戦", "地元チームは試合終了間際のゴールで、選手権の決勝戦に二対一で"
               "勝ちました。"),
        "ru": ("Финал по футболу", "Домашняя команда выиграла финал чемпионата со счётом два-"
               "один благодаря голу на последней минуте матча."),
    },
}


def documents() -> list[dict]:
    """The corpus as API documents; ids look like paths ("train/de") on purpose."""
    docs = []
    for topic, by_lang in TOPICS.items():
        for lang, (title, text) in by_lang.items():
            docs.append({
                "id": f"{topic}/{lang}",
                "title": title,
                "text": text,
                "lang": lang,
                "metadata": {"topic": topic, "year": 2020 + len(docs) % 5},
            })
    return docs
