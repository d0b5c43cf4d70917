"""Synthetic respondents for the demo study, answering whatever the engine asks.

They go through the real interview engine, so every synthetic interview obeys the instrument's routing,
validation and terminate rules. Effects are planted on purpose, for the analysis to find:

* younger respondents (under 30) buy more often and drink more cups a week;
* respondents in the north know the client brand (code 1, 茶語時光) more often;
* women like the low-sugar concept more (purchase intent);
* NPS follows satisfaction with taste;
* gender has *no* effect on NPS (a null the analysis must not call significant).

Some interviewers' work shows the usual signs of trouble (speeding, straight-lining, many don't-knows),
and a few interviews break off or are left suspended, so the quality review has something to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from survey_tui.core.interview.engine import QuestionView

INTERVIEWERS = ("陳怡君", "林志明", "黃雅婷", "張家豪", "李淑芬", "王建宏")
CARELESS_INTERVIEWER = "張家豪"

CLIENT = 1
BRANDS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
BRAND_POPULARITY = {1: 0.0, 2: 0.92, 3: 0.85, 4: 0.8, 5: 0.7, 6: 0.6, 7: 0.45, 8: 0.55, 9: 0.4}

TOP_OF_MIND = {
    1: ["茶語時光", "茶語", "TeaTime"],
    2: ["50嵐", "五十嵐", "50 嵐"],
    3: ["清心福全", "清心"],
    4: ["CoCo", "coco都可", "都可"],
    5: ["迷客夏", "milksha"],
    6: ["可不可", "可不可熟成紅茶"],
    7: ["大苑子"],
    8: ["春水堂"],
    9: ["茶湯會"],
}
WHY_MOST = [
    "離家近，很方便",
    "價格便宜又大杯",
    "珍珠很Q，口感好",
    "茶味比較濃",
    "店員態度很好",
    "有集點活動",
    "出餐很快",
    "鮮奶茶很好喝",
    "可以調甜度冰塊",
    "習慣了，一直都買這家",
    "公司樓下就有",
    "水果茶很新鮮",
]
PROMOTER = [
    "茶很香，珍珠好吃",
    "品質穩定，每次都一樣好喝",
    "店員很親切",
    "App 點餐很方便不用排隊",
    "價格合理，CP 值高",
    "用料實在，喝得出鮮奶",
]
DETRACTOR = [
    "等太久了",
    "太甜了，半糖還是很甜",
    "價格有點貴",
    "珍珠有時候太硬",
    "店面不太乾淨",
    "App 常常當機",
    "冰塊太多",
]
LIKE = ["低糖比較健康", "燕麥奶很適合乳糖不耐", "黑糖凍聽起來很好吃", "價格可以接受", "想試試看新口味"]
DISLIKE = ["75 元太貴了", "不喜歡燕麥奶的味道", "黑糖凍熱量應該很高", "我比較喜歡原本的珍珠奶茶"]


@dataclass
class Persona:
    """One synthetic respondent: who they are decides how they answer."""

    age: int
    gender: int  # 1 male, 2 female, 3 other
    region: int  # 1 north, 2 centre, 3 south, 4 east and islands
    buys: bool
    industry: bool
    careless: bool  # speeds and straight-lines (some interviewers' work)
    breaks_off_after: int | None  # stop after this many answers
    rng: random.Random

    @property
    def young(self) -> bool:
        return self.age < 30

    def __post_init__(self) -> None:
        r = self.rng
        self.aware = {b for b in BRANDS[1:] if r.random() < BRAND_POPULARITY[b]}
        client_awareness = 0.85 if self.region == 1 else 0.5
        if r.random() < client_awareness:
            self.aware.add(CLIENT)
        self.ever = {b for b in self.aware if r.random() < 0.65} or ({min(self.aware)} if self.aware else set())
        self.most = r.choice(sorted(self.ever)) if self.ever else None
        self.taste = _clip(round(r.gauss(3.7, 0.9)), 1, 5)
        self.freq = _clip(round(r.gauss(2.2 if self.young else 3.4, 0.9)), 1, 5)
        #: the brand loop's answers and screen times come from their own stream, seeded by who the respondent
        #: is, so the loop leaves every other answer (and the effects the analysis finds) as it was
        seed = f"loop:{self.age}:{self.gender}:{self.region}:{sorted(self.aware)}:{self.taste}:{self.freq}"
        self.loop_rng = random.Random(seed)


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def make_persona(rng: random.Random) -> Persona:
    age = int(_clip(round(rng.triangular(13, 70, 28)), 12, 75))
    return Persona(
        age=age,
        gender=rng.choices([1, 2, 3], [0.47, 0.5, 0.03])[0],
        region=rng.choices([1, 2, 3, 4], [0.45, 0.25, 0.25, 0.05])[0],
        buys=rng.random() < 0.9,
        industry=rng.random() < 0.04,
        careless=False,
        breaks_off_after=None,
        rng=rng,
    )


def answer(view: QuestionView, p: Persona) -> tuple[str, Any]:
    """('value', raw) or ('special', 'dont_know'|'refused') for the question on screen."""
    r, q = p.rng, view.question
    name = q.name
    if q.slot is not None:
        return "value", _loop_answer(view, p)
    special_names = [s[0] for s in view.specials]
    dk_rate = 0.12 if p.careless else 0.02
    if (
        "dont_know" in special_names
        and q.type in ("single", "scale", "text")
        and name != "d3_income"
        and r.random() < dk_rate
    ):
        return "special", "dont_know"
    if name == "d3_income" and r.random() < 0.08:
        return "special", "refused"
    codes = [c.code for c in view.choices]
    fixed: dict[str, Any] = {
        "s2": p.age,
        "s3": p.gender,
        "s4": p.region,
        "s5": 1 if p.buys else 2,
        "s6": [r.choice([1, 2, 3])] if p.industry else [97],
        "a1_tom": r.choice(TOP_OF_MIND[r.choice(sorted(p.aware))]) if p.aware else "想不起來",
        "a2_aided": sorted(p.aware) or [97],
        "a3_ever": sorted(p.ever),
        "a4_bumo": p.most,
        "a5_why": r.choice(WHY_MOST),
        "u1_freq": p.freq,
        "u2_spend": _clip(round(r.gauss(62, 15) / 5) * 5, 20, 300),
        "u3_cups": _cups(p),
        "b6_promoter_why": r.choice(PROMOTER),
        "b7_detractor_why": r.choice(DETRACTOR),
        "n4_like": r.choice(LIKE),
        "n5_dislike": r.choice(DISLIKE),
        "d4_household": _clip(round(r.gauss(3.2, 1.2)), 1, 8),
        "d5_last_purchase": (datetime(2026, 10, 1) - timedelta(days=r.randint(0, 25))).date().isoformat(),
    }
    if name in fixed:
        return "value", fixed[name]
    if name == "b5_nps":
        score = round(r.gauss(2.2 * p.taste - 1.0, 1.3))  # follows taste; gender plays no part
        return "value", _clip(score, 0, 10)
    if name == "b4_sat":
        if p.careless:
            return "value", {item: 3 for item, _ in view.items}
        return "value", {
            item: (p.taste if item == "taste" else _clip(round(r.gauss(3.6, 0.9)), 1, 5)) for item, _ in view.items
        }
    if name == "b2_image":
        if p.careless:
            return "value", {item: 4 for item, _ in view.items}
        return "value", {item: _clip(round(r.gauss(3.5, 1.0)), 1, 5) for item, _ in view.items}
    if name == "n2_intent":
        return "value", _clip(round(r.gauss(3.9 if p.gender == 2 else 3.1, 0.9)), 1, 5)
    if name == "d1_edu":
        return "value", 1 if p.age < 16 else r.choices([2, 3, 4, 5], [0.25, 0.15, 0.45, 0.15])[0]
    if name == "d2_occ":
        return "value", 1 if p.age < 23 else r.choice([c for c in codes if c != 1])
    if name == "d3_income":
        return "value", 1 if p.age < 20 else _clip(round(r.gauss(3.3, 1.2)), 2, 7)
    if q.type == "note":
        return "value", None
    if q.type in ("single", "scale"):
        return "value", r.choice(codes)
    if q.type == "multi":
        plain = [c.code for c in view.choices if not c.exclusive and c.code != 96]
        return "value", sorted(r.sample(plain, k=min(len(plain), r.randint(1, 2))))
    if q.type == "grid":
        return "value", {item: r.choice(codes) for item, _ in view.items}
    if q.type == "numeric":
        low, high = q.min if q.min is not None else 0, q.max if q.max is not None else 100
        return "value", r.randint(int(low), int(min(high, low + 10)))
    if q.type == "text":
        return "value", "沒有特別意見"
    if q.type == "date":
        return "value", "2026-10-01"
    return "value", None


def _loop_answer(view: QuestionView, p: Persona) -> Any:
    """The brand loop: brands bought are known better; the client brand reads young and trendy to the young."""
    r, slot = p.loop_rng, view.question.slot
    assert slot is not None
    brand = slot.key
    if slot.template == "l1_fam":
        return _clip(round(r.gauss(3.2 if brand in p.ever else 1.9, 0.8)), 1, 4)
    if slot.template == "l2_image":
        odds = {1: 0.45 if brand in p.ever else 0.2, 2: 0.3, 3: 0.6 if brand == CLIENT and p.young else 0.25, 4: 0.2}
        chosen = [code for code, chance in odds.items() if r.random() < chance]
        return chosen or [97]
    codes = [c.code for c in view.choices]
    return r.choice(codes) if codes else None


def _cups(p: Persona) -> int:
    base = {1: 9, 2: 4, 3: 2, 4: 1, 5: 0}[p.freq]
    cups = base + p.rng.choice([0, 0, 1]) + (1 if p.young and p.freq <= 3 else 0)
    if p.freq == 1:
        cups = max(cups, 7)
    if p.freq == 5:
        cups = min(cups, 1)
    return cups


def seconds_on(view: QuestionView, p: Persona) -> float:
    """Time on a screen: longer for open ends and grids; speeders take a fraction of it."""
    base = {"text": 25.0, "grid": 30.0, "multi": 12.0, "note": 6.0}.get(view.question.type, 7.0)
    rng = p.loop_rng if view.question.slot is not None else p.rng
    seconds = base * rng.lognormvariate(0, 0.35)
    return seconds * (0.22 if p.careless else 1.0)


class SimulatedClock:
    """A clock the demo moves by hand, so paradata show realistic durations and fieldwork dates."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def iso(self) -> str:
        return self.now.isoformat(timespec="microseconds")
