"""Generate a synthetic corpus of bulletins (1-3 KB each) from templates, for benchmarks only."""

from __future__ import annotations

import random

from etl.reference.regions import load_gazetteer

FACT_SENTENCES = [
    "截至目前，全{lvl}已建成乡镇（街道）社工站{n1}个，建成率达{p}%。",
    "{name}民政局培育社会工作服务机构{n2}家，发展社会工作专业人才{n3}余名。",
    "全{lvl}持证社会工作者达到{n3}人，注册志愿者{n4}万名。",
    "今年以来，各社工站共开展服务活动{n5}场次，服务困难群众{n6}万人次。",
    "{name}筹措福彩公益金{m}万元，购买社会工作服务项目{n2}个。",
    "培育孵化社区社会组织{n5}个，链接价值{m}万元的爱心物资。",
]
FILLER = [
    "{name}民政局坚持以人民为中心的发展思想，把社会工作作为提升基层治理能力的重要抓手，统筹推进各项工作。",
    "下一步，将继续完善社工站运行管理机制，加强督导和培训，推动社会工作服务提质增效，更好满足群众需求。",
    "活动现场，社工们通过展板、宣传册和互动游戏等形式，向居民介绍社会工作的服务内容和求助渠道。",
    "会议强调，要聚焦困难群众和特殊群体，发挥社会工作专业优势，打通为民服务的“最后一米”。",
    "据了解，该项目由区民政局指导，社会工作服务中心承接运营，服务覆盖辖区内多个村（社区）。",
]


def make_corpus(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (title, text) pairs; each text holds 3-6 fact sentences among filler, 1-3 KB of UTF-8."""
    rng = random.Random(seed)
    gaz = load_gazetteer()
    places = [r for r in gaz.by_code.values() if r.level in ("prefecture", "county")]
    out = []
    for _ in range(n):
        r = rng.choice(places)
        lvl = "市" if r.name.endswith("市") else ("县" if r.name.endswith("县") else "区")
        vals = {
            "name": r.name,
            "lvl": lvl,
            "n1": rng.randint(5, 300),
            "p": rng.randint(60, 100),
            "n2": rng.randint(2, 90),
            "n3": rng.randint(20, 5000),
            "n4": round(rng.uniform(0.1, 9.9), 1),
            "n5": rng.randint(10, 3000),
            "n6": round(rng.uniform(0.2, 99), 2),
            "m": round(rng.uniform(5, 3000), 1),
        }
        target = rng.randint(1000, 3000)
        paras = []
        size = 0
        facts = rng.sample(FACT_SENTENCES, rng.randint(3, 6))
        while size < target:
            pool = facts if facts and rng.random() < 0.5 else FILLER
            s = pool.pop(0) if pool is facts else rng.choice(FILLER)
            s = s.format(**vals)
            paras.append(s)
            size += len(s.encode("utf-8"))
        out.append((f"{r.name}社会工作发展情况", "\n".join(paras)))
    return out
