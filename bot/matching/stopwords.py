"""Filler words that carry no topic: they count little when a phrase is matched.

Written in normalised form (see normalise.py): lower case, no diacritics, Arabic letter
variants folded, the Arabic article stripped. Add a language by adding a set; nothing else
changes. These are language facts, not content, so they live with the matcher.
"""

from __future__ import annotations

from bot.matching.normalise import normalise

_RAW: dict[str, str] = {
    "de": """ich du er sie es wir ihr mein meine meinen meinem meiner mich mir dein deine
        sein seine unser unsere ein eine einen einem einer der die das den dem des und oder
        aber zu zum zur in im an am auf aus bei mit nach von vor fur fuer uber um als wie wo
        was wer wann welche welcher ist sind bin bist hat habe haben hast will willst mochte
        mochten brauche brauchen suche suchen kann konnen gibt es bitte gerne auch noch schon
        sehr mal nicht kein keine etwas so da hier dort jetzt hallo danke hilfe helfen lernen
        lerne""",
    "en": """i you he she it we they my your his her our their me a an the and or but to of
        in on at for from with by about as how where what who when which are am be was
        want wanna need needs looking look find search can could would like please also
        some any there here now hello hi thanks thank help get do does learn
        learning""",
    "ar": """انا انت هو هي نحن هم في من الى على عن مع هذا هذه ذلك تلك او و ان كان ابي بدي
        اريد اريده اريد عايز عاوز ابغى ابحث دور بدور وين اين كيف شو ايش هل ممكن لو سمحت
        من فضلك مرحبا شكرا عندي لي ل ب يا عن""",
    "fa": """من تو او ما شما آنها را از به با در برای که این آن یک و یا هم می میخوام میخواهم
        خواهم است هست هستم دارم کجا چطور چگونه چی چه آیا لطفا سلام ممنون مرسی""",
    "ps": """زه ته هغه موږ تاسو زما ستا د په کې ته ته له سره لپاره او یا چې دا هغه یو غواړم
        غواړو شته کوم چېرته څنګه څه مهرباني سلام مننه""",
    "tr": """ben sen o biz siz onlar benim bana bir ve veya ile için bu şu ne nerede nasıl
        istiyorum arıyorum lazım var mı mi mu de da merhaba selam lütfen teşekkürler""",
    "fr": """je j tu il elle nous vous ils le la les l un une des du de d et ou pour avec dans
        en à au aux mon ma mes ce cette qui que quoi où comment est suis cherche veux voudrais
        besoin bonjour merci svp plait""",
    "ku": """ez tu ew em hûn min te wî wê û an ji bo li di de re ra ku çi çawa kî kengê
        dixwazim digerim hewce heye ye silav spas kerema xwe""",
    "ru": """я ты он она мы вы они мне меня мой моя мое мои для в во на и или с к по у о
        как где что это есть хочу ищу нужно нужен нужна пожалуйста здравствуйте привет""",
    "uk": """я ти він вона ми ви вони мені мене мій моя моє мої для в у на і й та або з до
        по як де що це є хочу шукаю потрібно треба будь ласка привіт""",
    "ti": """ኣነ ንስኻ ንስኺ ንሱ ንሳ ንሕና ኣብ ካብ ናብ ምስ እንታይ ኣበይ ከመይ እየ ኢዩ እደሊ ይደሊ
        ሰላም የቐንየለይ በጃኹም""",
}

STOPWORDS: frozenset[str] = frozenset(
    word for text in _RAW.values() for word in normalise(text).split()
)
