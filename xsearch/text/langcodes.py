"""ISO 639 language codes: normalise what users write to ISO 639-1.

Users give languages as "EN", "en-US", "eng", "zh_Hant", "cmn"; the store keys
every passage by a two-letter ISO 639-1 code, so all of these must meet on one
spelling. The table below is the full ISO 639-1 list with its ISO 639-2/T
(and 639-2/B where it differs) three-letter codes; a few ISO 639-3 individual
languages whose text is written as the macrolanguage (cmn -> zh, arb -> ar ...)
and withdrawn two-letter codes (iw, in, ji ...) are accepted too.
"""

from __future__ import annotations

import re

from xsearch.errors import InputError

UNDETERMINED = "und"

# "639-1 639-2/T [639-2/B]" per entry.
_TABLE = """
aa aar|ab abk|ae ave|af afr|ak aka|am amh|an arg|ar ara|as asm|av ava|ay aym|az aze|ba bak|
be bel|bg bul|bh bih|bi bis|bm bam|bn ben|bo bod tib|br bre|bs bos|ca cat|ce che|ch cha|co cos|
cr cre|cs ces cze|cu chu|cv chv|cy cym wel|da dan|de deu ger|dv div|dz dzo|ee ewe|el ell gre|
en eng|eo epo|es spa|et est|eu eus baq|fa fas per|ff ful|fi fin|fj fij|fo fao|fr fra fre|
fy fry|ga gle|gd gla|gl glg|gn grn|gu guj|gv glv|ha hau|he heb|hi hin|ho hmo|hr hrv|ht hat|
hu hun|hy hye arm|hz her|ia ina|id ind|ie ile|ig ibo|ii iii|ik ipk|io ido|is isl ice|it ita|
iu iku|ja jpn|jv jav|ka kat geo|kg kon|ki kik|kj kua|kk kaz|kl kal|km khm|kn kan|ko kor|kr kau|
ks kas|ku kur|kv kom|kw cor|ky kir|la lat|lb ltz|lg lug|li lim|ln lin|lo lao|lt lit|lu lub|
lv lav|mg mlg|mh mah|mi mri mao|mk mkd mac|ml mal|mn mon|mr mar|ms msa may|mt mlt|my mya bur|
na nau|nb nob|nd nde|ne nep|ng ndo|nl nld dut|nn nno|no nor|nr nbl|nv nav|ny nya|oc oci|oj oji|
om orm|or ori|os oss|pa pan|pi pli|pl pol|ps pus|pt por|qu que|rm roh|rn run|ro ron rum|ru rus|
rw kin|sa san|sc srd|sd snd|se sme|sg sag|si sin|sk slk slo|sl slv|sm smo|sn sna|so som|
sq sqi alb|sr srp|ss ssw|st sot|su sun|sv swe|sw swa|ta tam|te tel|tg tgk|th tha|ti tir|tk tuk|
tl tgl|tn tsn|to ton|tr tur|ts tso|tt tat|tw twi|ty tah|ug uig|uk ukr|ur urd|uz uzb|ve ven|
vi vie|vo vol|wa wln|wo wol|xh xho|yi yid|yo yor|za zha|zh zho chi|zu zul
"""

# ISO 639-3 individual languages usually tagged with their macrolanguage, and
# withdrawn 639-1 codes still found in old data.
_EXTRA = {
    "cmn": "zh", "yue": "zh", "wuu": "zh", "arb": "ar", "pes": "fa", "prs": "fa",
    "zsm": "ms", "swh": "sw", "ekk": "et", "lvs": "lv", "khk": "mn", "uzn": "uz",
    "azj": "az", "npi": "ne", "ory": "or", "plt": "mg", "gaz": "om", "nso": "st",
    "iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "sh": "sr",
}


def _build() -> tuple[frozenset[str], dict[str, str]]:
    iso1: set[str] = set()
    to1: dict[str, str] = dict(_EXTRA)
    for entry in _TABLE.replace("\n", "").split("|"):
        two, *threes = entry.split()
        iso1.add(two)
        for three in threes:
            to1[three] = two
    return frozenset(iso1), to1


ISO_639_1, _TO_639_1 = _build()
_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


def normalize_lang(code: str) -> str:
    """Return the ISO 639-1 code for a language tag, or ``"und"``.

    Accepts any case, BCP-47 region/script subtags ("en-US", "zh_Hant_TW") and
    three-letter ISO 639-2/3 codes ("eng", "ger", "cmn"). Raises
    :class:`InputError` naming the value when it is no language code.
    """
    tag = code.strip().lower().replace("_", "-")
    if tag in ("und", "zxx", "mul", "mis"):
        return UNDETERMINED
    if _TAG.match(tag):
        primary = tag.split("-", 1)[0]
        if primary in ISO_639_1:
            return primary
        if primary in _TO_639_1:
            return _TO_639_1[primary]
    raise InputError(
        f"unknown language code {code!r}",
        fix="use an ISO 639-1 code such as 'en', 'de', 'zh' (or 'eng', 'en-US'; 'und' if unknown)",
    )
