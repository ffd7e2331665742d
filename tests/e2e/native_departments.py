"""Eight department databases in each department's own native style, and how to fill them.

Not the shipped synthetic schema (``agents/synthetic_schema.py``): these tables are laid
out the way a county's department systems often are, so the mappings in
``native_mappings/*.toml`` have to do real work:

* table and column names are pinyin abbreviations (``gaj_jdcxx`` 公安机动车信息,
  ``hyzk_djb`` 婚姻状况登记簿, ``rs_yljff`` 人社养老金发放, ``sfzh`` 身份证号 ...);
* money is yuan written as TEXT with thousands separators (``"1,330.00"``), and
  business capital is in 万元 (``"10.0000"``);
* dates are ``YYYYMMDD`` text, months paid for are ``YYYYMM`` text;
* every department has codes of its own (vehicle kinds ``XK``/``MT``/``HC``, property
  use ``ZZ``/``CW``, registration states ``CX``/``DX``/``ZX`` ...);
* the marriage register has the husband's and the wife's ID numbers in two columns
  (the mapping reads it with ``UNION ALL``, using ``:ids`` twice);
* pensions, unemployment benefits, housing subsidies and assistance are payment
  ledgers, one row per month paid (the mappings ``GROUP BY`` them back into a monthly
  amount from the first month paid);
* the tax table holds the business-income returns (经营所得申报) of 个体工商户 only, so
  it has no taxpayer-kind column (the mapping gives the kind as a constant).

:func:`build_databases` writes all eight SQLite files from a list of
:class:`Household` values. Every person is invented: :class:`People` makes resident ID
numbers from Shanghai region codes (3101xx districts, 3102xx former counties), a
birth date and a running sequence, with a correct GB 11643 check digit
(``stdnum.cn.ric.calc_check_digit``) — nobody real.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric

HERE = Path(__file__).resolve().parent
MAPPINGS_DIR = HERE / "native_mappings"

#: department → SQLite file name (one database per department, as in real life)
DATABASE_FILES = {
    "public-security": "gaj.sqlite",
    "housing": "zjj.sqlite",
    "human-resources": "rsj.sqlite",
    "civil-affairs": "mzj.sqlite",
    "banks": "jrpt.sqlite",
    "provident-fund": "gjj.sqlite",
    "market-regulation": "scjg.sqlite",
    "tax": "swj.sqlite",
}

#: the day each department's data was last synchronised (its ``data_as_of``)
SYNCED_ON = "20261130"


def mapping_file(department: str) -> Path:
    return MAPPINGS_DIR / f"{department}.toml"


# ------------------------------------------------------------------ the records


@dataclass(frozen=True)
class Wage:
    """One month's wage as the employer declared it (rs_gzff)."""

    month: str  # YYYYMM, the month paid for
    amount: str  # yuan text, "1,330.00"
    employer: str = "上海某某物业管理有限公司"


@dataclass(frozen=True)
class Insurance:
    """A social-insurance enrolment (rs_cbxx)."""

    scheme: str  # YL 养老, YB 医疗, SY 失业, GS 工伤, SYB 生育
    base: str  # monthly contribution base, yuan text
    since: str  # YYYYMMDD
    status: str = "1"  # 1 正常缴费, 2 暂停缴费, 3 终止参保
    employer: str = "上海某某物业管理有限公司"


@dataclass(frozen=True)
class Ledger:
    """Monthly payments ``first..last`` (YYYYMM, inclusive) of one amount: one ledger
    row per month, as the paying system writes them."""

    kind: str  # the paying department's own programme code
    first: str  # YYYYMM
    last: str  # YYYYMM
    amount: str  # yuan text per month

    def months(self) -> list[str]:
        y, m = int(self.first[:4]), int(self.first[4:])
        end = (int(self.last[:4]), int(self.last[4:]))
        out = []
        while (y, m) <= end:
            out.append(f"{y:04d}{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


@dataclass(frozen=True)
class Deposit:
    bank: str
    kind: str  # HQ 活期, DQ 定期
    balance: str  # yuan text
    as_of: str = "20261031"


@dataclass(frozen=True)
class Security:
    institution: str
    kind: str  # GP 股票, JJ 基金, ZQ 债券, LC 理财
    value: str  # market value, yuan text
    as_of: str = "20261031"


@dataclass(frozen=True)
class PropertyIncome:
    institution: str
    kind: str  # LX 利息, GX 股息, ZX 债券利息, FH 基金分红
    amount: str  # yuan text, for the whole period
    start: str  # YYYYMMDD
    end: str  # YYYYMMDD


@dataclass(frozen=True)
class ProvidentFund:
    balance: str  # yuan text
    monthly: str = "0.00"  # 月缴存额
    status: str = "ZC"  # ZC 正常, FC 封存, XH 销户
    opened: str = "20100101"


@dataclass(frozen=True)
class Vehicle:
    plate: str
    kind: str  # XK 小型客车, ZK 中型客车, HC 货车, MT 二轮摩托, SL 三轮/低速车
    price: str  # purchase price, yuan text
    status: str = "ZC"  # ZC 正常, BF 报废, ZY 转移登记, DQ 被盗抢
    registered: str = "20180601"
    displacement_ml: int = 1598


@dataclass(frozen=True)
class Business:
    name: str
    kind: str  # GT 个体工商户, YX 有限责任公司, HH 合伙企业
    capital_wan: str  # the member's subscribed capital, 万元 text "10.0000"
    status: str = "CX"  # CX 存续, DX 吊销, ZX 注销
    role: str = "GD"  # JYZ 经营者, FDDBR 法定代表人, GD 股东
    founded: str = "20150301"
    revenue_wan: str = ""  # latest annual report's revenue, 万元 text ("" = none filed)


@dataclass(frozen=True)
class TaxReturn:
    """A 经营所得 return of the member's 个体工商户 (sw_jysdsb)."""

    start: str  # 税款所属期起 YYYYMMDD
    end: str  # 税款所属期止 YYYYMMDD
    taxable: str  # 应纳税所得额, yuan text (negative: a loss)
    paid: str = "0.00"  # 已缴税额


@dataclass
class Member:
    """One person and what each department holds on them."""

    id_number: str
    name: str
    relation: str  # for the household file: self, spouse, child, parent, ...
    wages: Sequence[Wage] = ()
    insurance: Sequence[Insurance] = ()
    pensions: Sequence[Ledger] = ()  # kind: QY 企业职工养老金, CX 城乡居民养老金
    unemployment: Sequence[Ledger] = ()  # kind: the claim number (申领编号)
    housing_subsidies: Sequence[Ledger] = ()  # kind: ZL 租赁补贴, LZ 廉租住房
    assistance: Sequence[Ledger] = ()  # kind: DB 低保, TK 特困, LS 临时救助
    deposits: Sequence[Deposit] = ()
    securities: Sequence[Security] = ()
    property_income: Sequence[PropertyIncome] = ()
    provident_fund: ProvidentFund | None = None
    vehicles: Sequence[Vehicle] = ()
    businesses: Sequence[Business] = ()
    tax_returns: Sequence[TaxReturn] = ()
    employment: str = ""  # JY 就业登记, SY 失业登记, "" none


@dataclass(frozen=True)
class Property:
    """A real-estate certificate; ``holders`` are (member index, share percent text)."""

    certificate: str
    use: str  # ZZ 住宅, SY 商业, BG 办公, CW 车位, CK 仓储
    area_m2: float
    holders: tuple[tuple[int, str], ...]
    value: str = "2,800,000.00"
    registered: str = "20120815"
    address: str = "上海市某区某路1号"


@dataclass(frozen=True)
class Marriage:
    """A marriage registration between two members (husband, wife: member indexes)."""

    husband: int
    wife: int
    kind: str = "JH"  # JH 结婚登记, LH 离婚登记
    registered: str = "19900518"


@dataclass
class Household:
    hid: str
    what: str  # what the household tests, in one line
    region: str  # the case's six-digit region code (the applicant's district)
    members: list[Member]
    properties: Sequence[Property] = ()
    marriages: Sequence[Marriage] = ()
    hukou: str = ""


# ------------------------------------------------------------------ invented persons


class People:
    """Invented resident ID numbers: region + birth date + sequence + check digit.

    The sequence's last digit is odd for men and even for women (GB 11643); a running
    counter keeps every number of a test run distinct.
    """

    def __init__(self, start: int = 901) -> None:
        self._next = start

    def id_number(self, region: str, birth: str, sex: str) -> str:
        if not (len(region) == 6 and region.startswith(("3101", "3102"))):
            raise ValueError("use a Shanghai region code, 3101xx or 3102xx")
        seq = self._next
        if (seq % 2 == 1) != (sex == "M"):
            seq += 1
        self._next = seq + 1
        if seq > 999:
            raise ValueError("out of sequence numbers")
        body = f"{region}{birth}{seq:03d}"
        # calc_check_digit reads the number *with* a check digit and ignores the last
        # character: give it a placeholder
        number = body + ric.calc_check_digit(body + "0")
        try:
            valid = ric.is_valid(number)
        except KeyError:  # stdnum's table lacks a county name for some city-level codes
            valid = False
        if not valid:  # e.g. the region code did not exist yet on that birth date
            raise ValueError(f"region {region} was not a county code on {birth}")
        return number

    def member(self, name: str, sex: str, birth: str, region: str, relation: str,
               **records: object) -> Member:
        """A member whose ID number carries ``region``: the county code where the ID was
        first issued, valid on the birth date (not necessarily where they live now)."""
        return Member(self.id_number(region, birth, sex), name, relation, **records)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the schemas

SCHEMAS: dict[str, str] = {
    # 公安局: 常住人口 + 机动车登记
    "public-security": """
CREATE TABLE gaj_czrk (           -- 常住人口信息
  gmsfhm TEXT PRIMARY KEY,        -- 公民身份号码
  xm     TEXT NOT NULL,           -- 姓名
  hh     TEXT NOT NULL,           -- 户号
  ssxq   TEXT NOT NULL,           -- 所属辖区 (行政区划代码)
  yhzgx  TEXT NOT NULL,           -- 与户主关系: HZ 户主 PO 配偶 ZN 子女 FM 父母 QT 其他
  swbs   TEXT NOT NULL DEFAULT 'N', -- 死亡标识 Y/N
  swrq   TEXT                     -- 死亡日期 YYYYMMDD
);
CREATE TABLE gaj_jdcxx (          -- 机动车信息
  xh      INTEGER PRIMARY KEY,    -- 序号
  syrsfhm TEXT NOT NULL,          -- 所有人身份号码
  hphm    TEXT NOT NULL,          -- 号牌号码
  cllx    TEXT NOT NULL,          -- 车辆类型 (本局代码)
  pl      INTEGER,                -- 排量 ml
  ccdjrq  TEXT,                   -- 初次登记日期 YYYYMMDD
  gcjg    TEXT,                   -- 购车价格 (元, 文本)
  zt      TEXT NOT NULL           -- 状态 ZC 正常 BF 报废 ZY 转移 DQ 被盗抢
);
CREATE INDEX gaj_jdcxx_syr ON gaj_jdcxx (syrsfhm);
CREATE TABLE gaj_tbrz (tbsj TEXT NOT NULL);  -- 同步日志
""",
    # 住建局 / 不动产登记中心: 登记簿 + 权利人, 住房保障发放明细
    "housing": """
CREATE TABLE bdc_djb (            -- 不动产登记簿
  bdcqzh TEXT PRIMARY KEY,        -- 不动产权证号
  zl     TEXT,                    -- 坐落
  jzmj   REAL NOT NULL,           -- 建筑面积 m²
  ghyt   TEXT NOT NULL,           -- 规划用途: ZZ 住宅 SY 商业 BG 办公 CW 车位 CK 仓储
  djrq   TEXT,                    -- 登记日期 YYYYMMDD
  pgjz   TEXT                     -- 评估价值 (元, 文本)
);
CREATE TABLE bdc_qlr (            -- 权利人
  bdcqzh TEXT NOT NULL,
  qlrzjh TEXT NOT NULL,           -- 权利人证件号
  gyfe   TEXT NOT NULL            -- 共有份额 (%)
);
CREATE INDEX bdc_qlr_zjh ON bdc_qlr (qlrzjh);
CREATE TABLE zfbz_ffmx (          -- 住房保障发放明细 (每月一行)
  sqrzjh TEXT NOT NULL,           -- 申请人证件号
  bzlx   TEXT NOT NULL,           -- 保障类型 ZL 租赁补贴 LZ 廉租住房
  ffny   TEXT NOT NULL,           -- 发放年月 YYYYMM
  ffje   TEXT NOT NULL            -- 发放金额 (元, 文本)
);
CREATE TABLE zjj_tbrz (tbsj TEXT NOT NULL);
""",
    # 人社局: 参保人员, 参保信息, 工资申报, 养老金发放, 失业金发放, 就业登记
    "human-resources": """
CREATE TABLE rs_cbry (grbh TEXT PRIMARY KEY, sfzh TEXT NOT NULL UNIQUE, xm TEXT);
CREATE TABLE rs_cbxx (            -- 参保信息
  grbh TEXT NOT NULL, xzlx TEXT NOT NULL, dwmc TEXT,
  jfjs TEXT NOT NULL,             -- 缴费基数 (元, 文本)
  cbzt TEXT NOT NULL,             -- 参保状态 1 正常缴费 2 暂停 3 终止
  cbrq TEXT NOT NULL              -- 参保日期 YYYYMMDD
);
CREATE TABLE rs_gzff (grbh TEXT NOT NULL, dwmc TEXT, gzssq TEXT NOT NULL, yfgz TEXT NOT NULL);
CREATE TABLE rs_yljff (grbh TEXT NOT NULL, ylxz TEXT NOT NULL, ffny TEXT NOT NULL,
                       ffje TEXT NOT NULL);          -- 养老金发放 (每月一行)
CREATE TABLE rs_syjff (grbh TEXT NOT NULL, slbh TEXT NOT NULL, ffny TEXT NOT NULL,
                       ffje TEXT NOT NULL);          -- 失业保险金发放 (每月一行)
CREATE TABLE rs_jydj (sfzh TEXT NOT NULL, djlx TEXT NOT NULL, djrq TEXT NOT NULL);
CREATE TABLE rs_tbrz (tbsj TEXT NOT NULL);
""",
    # 民政局: 婚姻登记 (男方/女方两列), 社会救助发放明细
    "civil-affairs": """
CREATE TABLE hyzk_djb (           -- 婚姻登记簿
  djzh    TEXT PRIMARY KEY,       -- 登记证号
  nfsfzh  TEXT NOT NULL,          -- 男方身份证号
  nfxm    TEXT NOT NULL,
  nvfsfzh TEXT NOT NULL,          -- 女方身份证号
  nvfxm   TEXT NOT NULL,
  djlx    TEXT NOT NULL,          -- 登记类型 JH 结婚 LH 离婚
  djrq    TEXT NOT NULL           -- 登记日期 YYYYMMDD
);
CREATE TABLE shjz_ffmx (          -- 社会救助发放明细 (每月一行)
  jzdxsfzh TEXT NOT NULL, jzlb TEXT NOT NULL, ffny TEXT NOT NULL, ffje TEXT NOT NULL
);
CREATE TABLE mzj_tbrz (tbsj TEXT NOT NULL);
""",
    # 金融数据平台: 存款, 证券持仓, 财产性收入
    "banks": """
CREATE TABLE jr_ckzh (khrzjhm TEXT NOT NULL, jgmc TEXT, cklx TEXT, ye TEXT NOT NULL,
                      yerq TEXT);
CREATE TABLE jr_zqcc (khrzjhm TEXT NOT NULL, jgmc TEXT, cplx TEXT, sz TEXT NOT NULL,
                      gzrq TEXT);
CREATE TABLE jr_ccsr (khrzjhm TEXT NOT NULL, jgmc TEXT, srlx TEXT, je TEXT NOT NULL,
                      qsrq TEXT, jzrq TEXT);
CREATE TABLE jr_tbrz (tbsj TEXT NOT NULL);
""",
    # 公积金中心: 个人账户, 提取明细, 贷款合同
    "provident-fund": """
CREATE TABLE gjj_grzh (grzh TEXT PRIMARY KEY, zjhm TEXT NOT NULL, zhzt TEXT NOT NULL,
                       yjce TEXT, zhye TEXT NOT NULL, khrq TEXT);
CREATE TABLE gjj_tqmx (grzh TEXT NOT NULL, tqrq TEXT, tqje TEXT, tqyy TEXT);
CREATE TABLE gjj_dkht (jkrzjhm TEXT NOT NULL, dkye TEXT, yhke TEXT, fkrq TEXT, dqrq TEXT);
CREATE TABLE gjj_tbrz (tbsj TEXT NOT NULL);
""",
    # 市场监管局: 市场主体, 投资人/主要人员 (认缴出资额 万元)
    "market-regulation": """
CREATE TABLE scjg_ztxx (ztbh TEXT PRIMARY KEY, tyshxydm TEXT, ztmc TEXT, ztlx TEXT,
                        djzt TEXT NOT NULL, clrq TEXT, nyysr TEXT);
CREATE TABLE scjg_tzr (ztbh TEXT NOT NULL, zjhm TEXT NOT NULL, zw TEXT,
                       rjcze TEXT NOT NULL);       -- 认缴出资额 (万元, 文本)
CREATE TABLE scjg_tbrz (tbsj TEXT NOT NULL);
""",
    # 税务局: 个体工商户经营所得申报 (no taxpayer-kind column: all are 个体工商户)
    "tax": """
CREATE TABLE sw_jysdsb (nsrsbh TEXT NOT NULL, skssqq TEXT NOT NULL, skssqz TEXT NOT NULL,
                        ynssde TEXT NOT NULL, yjse TEXT NOT NULL);
CREATE TABLE sw_tbrz (tbsj TEXT NOT NULL);
""",
}

_SYNC_TABLE = {
    "public-security": "gaj_tbrz", "housing": "zjj_tbrz", "human-resources": "rs_tbrz",
    "civil-affairs": "mzj_tbrz", "banks": "jr_tbrz", "provident-fund": "gjj_tbrz",
    "market-regulation": "scjg_tbrz", "tax": "sw_tbrz",
}
_RELATION_CODE = {"self": "HZ", "spouse": "PO", "child": "ZN", "parent": "FM"}


# ------------------------------------------------------------------ filling them


def build_databases(directory: Path, households: Iterable[Household]) -> dict[str, Path]:
    """Write the eight department databases for ``households``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    households = list(households)
    paths: dict[str, Path] = {}
    conns: dict[str, sqlite3.Connection] = {}
    for department, name in DATABASE_FILES.items():
        path = directory / name
        if path.exists():
            path.unlink()
        conn = sqlite3.connect(path)
        conn.executescript(SCHEMAS[department])
        conn.execute(f"INSERT INTO {_SYNC_TABLE[department]} VALUES (?)", (SYNCED_ON,))
        conns[department] = conn
        paths[department] = path
    seq = _Counter()
    for n, h in enumerate(households, 1):
        _fill_household(conns, h, n, seq)
    for conn in conns.values():
        conn.commit()
        conn.close()
    return paths


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _fill_household(c: dict[str, sqlite3.Connection], h: Household, n: int,
                    seq: _Counter) -> None:
    hukou = h.hukou or f"310{n:06d}"
    ps, hs, hr, ca = c["public-security"], c["housing"], c["human-resources"], c["civil-affairs"]
    bk, pf, mr, tx = c["banks"], c["provident-fund"], c["market-regulation"], c["tax"]
    for m in h.members:
        sid = m.id_number
        ps.execute("INSERT INTO gaj_czrk (gmsfhm, xm, hh, ssxq, yhzgx) VALUES (?,?,?,?,?)",
                   (sid, m.name, hukou, sid[:6], _RELATION_CODE.get(m.relation, "QT")))
        for v in m.vehicles:
            ps.execute("INSERT INTO gaj_jdcxx (syrsfhm, hphm, cllx, pl, ccdjrq, gcjg, zt) "
                       "VALUES (?,?,?,?,?,?,?)",
                       (sid, v.plate, v.kind, v.displacement_ml, v.registered, v.price,
                        v.status))
        for s in m.housing_subsidies:
            hs.executemany("INSERT INTO zfbz_ffmx VALUES (?,?,?,?)",
                           [(sid, s.kind, month, s.amount) for month in s.months()])
        # human resources: persons are keyed by 个人编号, not by ID number
        if m.wages or m.insurance or m.pensions or m.unemployment:
            grbh = f"GR{seq():08d}"
            hr.execute("INSERT INTO rs_cbry VALUES (?,?,?)", (grbh, sid, m.name))
            for i in m.insurance:
                hr.execute("INSERT INTO rs_cbxx VALUES (?,?,?,?,?,?)",
                           (grbh, i.scheme, i.employer, i.base, i.status, i.since))
            for w in m.wages:
                hr.execute("INSERT INTO rs_gzff VALUES (?,?,?,?)",
                           (grbh, w.employer, w.month, w.amount))
            for p in m.pensions:
                hr.executemany("INSERT INTO rs_yljff VALUES (?,?,?,?)",
                               [(grbh, p.kind, month, p.amount) for month in p.months()])
            for u in m.unemployment:
                hr.executemany("INSERT INTO rs_syjff VALUES (?,?,?,?)",
                               [(grbh, u.kind, month, u.amount) for month in u.months()])
        if m.employment:
            hr.execute("INSERT INTO rs_jydj VALUES (?,?,?)", (sid, m.employment, "20200101"))
        for a in m.assistance:
            ca.executemany("INSERT INTO shjz_ffmx VALUES (?,?,?,?)",
                           [(sid, a.kind, month, a.amount) for month in a.months()])
        for d in m.deposits:
            bk.execute("INSERT INTO jr_ckzh VALUES (?,?,?,?,?)",
                       (sid, d.bank, d.kind, d.balance, d.as_of))
        for s in m.securities:
            bk.execute("INSERT INTO jr_zqcc VALUES (?,?,?,?,?)",
                       (sid, s.institution, s.kind, s.value, s.as_of))
        for i in m.property_income:
            bk.execute("INSERT INTO jr_ccsr VALUES (?,?,?,?,?,?)",
                       (sid, i.institution, i.kind, i.amount, i.start, i.end))
        if m.provident_fund is not None:
            f = m.provident_fund
            pf.execute("INSERT INTO gjj_grzh VALUES (?,?,?,?,?,?)",
                       (f"GJ{seq():08d}", sid, f.status, f.monthly, f.balance, f.opened))
        for b in m.businesses:
            ztbh = f"ZT{seq():08d}"
            mr.execute("INSERT INTO scjg_ztxx VALUES (?,?,?,?,?,?,?)",
                       (ztbh, f"91310000MA1{seq():07d}", b.name, b.kind, b.status, b.founded,
                        b.revenue_wan or None))
            mr.execute("INSERT INTO scjg_tzr VALUES (?,?,?,?)", (ztbh, sid, b.role,
                                                                 b.capital_wan))
        for t in m.tax_returns:
            tx.execute("INSERT INTO sw_jysdsb VALUES (?,?,?,?,?)",
                       (sid, t.start, t.end, t.taxable, t.paid))
    for p in h.properties:
        hs.execute("INSERT INTO bdc_djb VALUES (?,?,?,?,?,?)",
                   (p.certificate, p.address, p.area_m2, p.use, p.registered, p.value))
        for idx, share in p.holders:
            hs.execute("INSERT INTO bdc_qlr VALUES (?,?,?)",
                       (p.certificate, h.members[idx].id_number, share))
    for k, mar in enumerate(h.marriages, 1):
        hb, wf = h.members[mar.husband], h.members[mar.wife]
        ca.execute("INSERT INTO hyzk_djb VALUES (?,?,?,?,?,?,?)",
                   (f"J310{n:04d}{k:02d}", hb.id_number, hb.name, wf.id_number, wf.name,
                    mar.kind, mar.registered))
