"""Eight department databases, each in the department's own dialect.

Real department systems were built by different vendors over twenty years: pinyin
abbreviations (``hj_person.sfzh``), the numbered columns of the social-insurance
system (``ac01.aac002``), English legacy names in capitals (``DEP_ACCT.CUST_CERT_NO``),
amounts in yuan as text, in fen as integers, in 10,000 yuan (万元) as decimals,
dates as ``YYYYMMDD``, ``YYYY-MM-DD`` or ``YYYYMM``, status codes like ``'A'`` or
``'1'``. The synthetic databases copy that variety on purpose, so that a mapping
file has real translating to do and the mapping adapter is tested against it.

Nothing here draws random numbers: every row follows from the population model
(``synthetic_people``), so the data stays deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from hedui.agents.synthetic_people import Household, Month

Rows = dict[str, list[tuple[object, ...]]]


def ymd(d: date | None) -> str | None:
    return None if d is None else f"{d.year:04d}{d.month:02d}{d.day:02d}"


def iso(d: date | None) -> str | None:
    return None if d is None else f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def ym(m: Month | None) -> str | None:
    return None if m is None else f"{m[0]:04d}{m[1]:02d}"


def yuan(fen: int | None) -> str | None:
    """Fen as a yuan decimal text with two places, the way most ledgers print it."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def wan(fen: int | None) -> str | None:
    """Fen as 10,000-yuan (万元) decimal text, as registered capital is recorded."""
    if fen is None:
        return None
    return format((Decimal(fen) / Decimal(1_000_000)).normalize(), "f")


# --------------------------------------------------------------- DDL

DDL: dict[str, str] = {
    "public-security": """
CREATE TABLE hj_person (          -- 常住人口户籍信息
  sfzh  TEXT PRIMARY KEY,         -- 公民身份号码
  xm    TEXT NOT NULL,            -- 姓名
  xb    TEXT,                     -- 性别 1 男 2 女
  csrq  TEXT,                     -- 出生日期 YYYYMMDD
  hh    TEXT NOT NULL,            -- 户号
  qhdm  TEXT,                     -- 户籍地行政区划代码
  yhzgx TEXT,                     -- 与户主关系 GB/T 4761
  swbz  TEXT NOT NULL DEFAULT '0',-- 死亡标识 0 否 1 是
  swrq  TEXT,                     -- 死亡日期 YYYYMMDD
  gxsj  TEXT                      -- 更新时间 YYYYMMDDHHMMSS
);
CREATE TABLE hj_qyjl (            -- 户口迁移记录
  qyid  INTEGER PRIMARY KEY,
  sfzh  TEXT NOT NULL,
  qyrq  TEXT,                     -- 迁移日期 YYYYMMDD
  qcdqh TEXT,                     -- 迁出地区划
  qrdqh TEXT                      -- 迁入地区划
);
CREATE TABLE jdc_vehicle (        -- 机动车登记
  hphm      TEXT PRIMARY KEY,     -- 号牌号码
  hpzl      TEXT,                 -- 号牌种类
  syr_sfzh  TEXT NOT NULL,        -- 所有人身份证号
  cllx      TEXT,                 -- 车辆类型 GA 24.4
  pl        INTEGER,              -- 排量 ml
  gmrq      TEXT,                 -- 购买日期 YYYYMMDD
  gmjg_yuan TEXT,                 -- 购买价格 元
  pgjz_yuan INTEGER,              -- 评估价值 元
  zt        TEXT                  -- 机动车状态 A 正常 B 转出 C 被盗抢 E 注销
);
CREATE TABLE sjtb_rz (pc INTEGER PRIMARY KEY, tbsj TEXT);  -- 数据同步日志
""",
    "housing": """
CREATE TABLE RE_CERT (            -- real-estate right certificates
  CERT_NO       TEXT PRIMARY KEY,
  LOCATION      TEXT,
  BLD_AREA      REAL,             -- m2
  USAGE_CD      TEXT,             -- 10 residential 21 commercial 22 office 31 parking
  REG_DATE      TEXT,             -- YYYY-MM-DD
  APPRAISED_AMT INTEGER           -- yuan
);
CREATE TABLE RE_HOLDER (
  HOLDER_ID      INTEGER PRIMARY KEY,
  CERT_NO        TEXT NOT NULL,
  HOLDER_CERT_NO TEXT NOT NULL,   -- ID number
  HOLDER_NM      TEXT,
  HOLD_MODE      TEXT,            -- 1 sole 2 joint
  SHARE_PCT      REAL
);
CREATE TABLE HS_SUBSIDY (         -- housing security payments
  SUB_ID       INTEGER PRIMARY KEY,
  APPL_CERT_NO TEXT NOT NULL,
  PROG_CD      TEXT,              -- ZLBT rent subsidy, LZF low-rent, GZF public rental
  MON_AMT      TEXT,              -- yuan
  BEGIN_YM     TEXT,              -- YYYYMM
  END_YM       TEXT
);
CREATE TABLE SYS_SYNC (SYNC_ID INTEGER PRIMARY KEY, SYNC_TIME TEXT);
""",
    "human-resources": """
CREATE TABLE ac01 (               -- 个人基本信息
  aac001 INTEGER PRIMARY KEY,     -- 个人编号
  aac002 TEXT NOT NULL,           -- 公民身份号码
  aac003 TEXT,                    -- 姓名
  aac004 TEXT,                    -- 性别
  aac006 TEXT                     -- 出生日期 YYYYMMDD
);
CREATE TABLE ab01 (               -- 单位基本信息
  aab001 INTEGER PRIMARY KEY,     -- 单位编号
  aab004 TEXT                     -- 单位名称
);
CREATE TABLE ac02 (               -- 个人参保信息
  aac001 INTEGER NOT NULL,
  aae140 TEXT,                    -- 险种类型 110 养老 210 失业 310 职工医疗 390 居民医疗
  aab001 INTEGER,
  aac008 TEXT,                    -- 参保状态 1 参保缴费 2 暂停缴费 3 终止
  aac030 TEXT,                    -- 参保日期 YYYYMMDD
  aae180 NUMERIC                  -- 缴费基数 元
);
CREATE TABLE ac43 (               -- 工资发放明细
  aac001 INTEGER NOT NULL,
  aab001 INTEGER,
  aae003 TEXT,                    -- 所属期 YYYYMM
  aae019 TEXT                     -- 应发工资 元
);
CREATE TABLE ic10 (               -- 养老金待遇
  aac001 INTEGER NOT NULL,
  aic161 TEXT,                    -- 待遇类别 11 企业职工 31 城乡居民
  aic166 NUMERIC,                 -- 月养老金 元
  aic160 TEXT                     -- 待遇享受开始日期 YYYYMMDD
);
CREATE TABLE jc20 (               -- 失业保险金发放
  aac001 INTEGER NOT NULL,
  ajc050 TEXT,                    -- 月发放标准 元
  ajc051 TEXT,                    -- 开始年月 YYYYMM
  ajc052 TEXT                     -- 终止年月 YYYYMM
);
CREATE TABLE jy_dj (              -- 就业失业登记
  aac002 TEXT NOT NULL,
  djlb   TEXT,                    -- 1 就业登记 2 失业登记 9 未登记
  djrq   TEXT                     -- YYYYMMDD
);
CREATE TABLE xt_sjtb (tbrq TEXT);
""",
    "civil-affairs": """
CREATE TABLE hy_djxx (            -- 婚姻登记
  djid  INTEGER PRIMARY KEY,
  zjhm  TEXT NOT NULL,
  xm    TEXT,
  hyzk  TEXT,                     -- GB/T 2261.2: 10 未婚 20 已婚 30 丧偶 40 离婚
  pozjhm TEXT,                    -- 配偶证件号码
  poxm  TEXT,
  djrq  TEXT                      -- YYYY-MM-DD
);
CREATE TABLE jz_ffxx (            -- 社会救助发放
  ffid  INTEGER PRIMARY KEY,
  zjhm  TEXT NOT NULL,
  jzlx  TEXT,                     -- 01 低保 02 特困 03 临时救助
  yffje TEXT,                     -- 月发放金额 元
  ksyf  TEXT,                     -- 开始月份 YYYYMM
  jsyf  TEXT                      -- 结束月份 YYYYMM
);
CREATE TABLE mfqy_djxx (          -- 民办非企业单位登记
  tyshxydm   TEXT PRIMARY KEY,
  dwmc       TEXT,
  fddbr_zjhm TEXT,
  clrq       TEXT                 -- YYYY-MM-DD
);
CREATE TABLE sjtb (tbsj TEXT);
""",
    "banks": """
CREATE TABLE DEP_ACCT (
  ACCT_NO      TEXT PRIMARY KEY,
  CUST_CERT_NO TEXT NOT NULL,
  FIN_ORG_NM   TEXT,
  ACCT_KIND    TEXT,              -- 1 demand 2 time
  BAL          TEXT,              -- yuan
  BAL_DT       TEXT               -- YYYYMMDD
);
CREATE TABLE SEC_POS (
  POS_ID       INTEGER PRIMARY KEY,
  CUST_CERT_NO TEXT NOT NULL,
  FIN_ORG_NM   TEXT,
  PROD_CLS     TEXT,              -- STK FND BND WMP
  MKT_VAL_FEN  INTEGER,           -- fen
  VAL_DT       TEXT
);
CREATE TABLE PROP_INC (
  INC_ID       INTEGER PRIMARY KEY,
  CUST_CERT_NO TEXT NOT NULL,
  FIN_ORG_NM   TEXT,
  INC_CLS      TEXT,              -- INT DIV BDI FDV
  AMT          TEXT,              -- yuan
  BGN_DT       TEXT,
  END_DT       TEXT
);
CREATE TABLE ETL_BATCH (BATCH_ID INTEGER PRIMARY KEY, BIZ_DT TEXT);
""",
    "provident-fund": """
CREATE TABLE gr_zh (              -- 个人账户
  grzh     TEXT PRIMARY KEY,      -- 个人账号
  zjhm     TEXT NOT NULL,
  xingming TEXT,
  zhzt     TEXT,                  -- 账户状态 0 正常 1 封存 9 销户
  yjce     NUMERIC,               -- 月缴存额 元
  zhye     NUMERIC,               -- 账户余额 元
  khrq     TEXT                   -- 开户日期 YYYYMMDD
);
CREATE TABLE gr_tq (              -- 提取明细
  tqlsh INTEGER PRIMARY KEY,
  grzh  TEXT NOT NULL,
  tqrq  TEXT,
  tqje  NUMERIC,                  -- 元
  tqyy  TEXT                      -- 01 购房 02 租房 03 离退休 04 偿还贷款
);
CREATE TABLE dk_ht (              -- 个人住房贷款合同
  htbh     TEXT PRIMARY KEY,
  jkr_zjhm TEXT NOT NULL,
  dkye     NUMERIC,               -- 贷款余额 元
  yhke     NUMERIC,               -- 月还款额 元
  fkrq     TEXT,
  dqrq     TEXT
);
CREATE TABLE xt_rq (ywrq TEXT);
""",
    "market-regulation": """
CREATE TABLE e_baseinfo (         -- 市场主体基本信息
  pripid   TEXT PRIMARY KEY,
  uniscid  TEXT,                  -- 统一社会信用代码
  entname  TEXT,
  enttype  TEXT,                  -- 1100 公司 4100 合伙 9600 个体工商户
  regcap   TEXT,                  -- 注册资本 万元
  regstate TEXT,                  -- 1 存续 2 吊销 3 注销
  estdate  TEXT                   -- 成立日期 YYYY-MM-DD
);
CREATE TABLE e_inv_person (       -- 经营者 / 法定代表人 / 投资人
  invid    INTEGER PRIMARY KEY,
  pripid   TEXT NOT NULL,
  cerno    TEXT NOT NULL,         -- 证件号码
  inv      TEXT,                  -- 姓名
  position TEXT,                  -- JY 经营者 FR 法定代表人 GD 股东
  subconam TEXT                   -- 认缴出资额 万元
);
CREATE TABLE an_baseinfo (        -- 年度报告
  ancheid   INTEGER PRIMARY KEY,
  pripid    TEXT NOT NULL,
  ancheyear TEXT,
  vendinc   TEXT                  -- 营业总收入 万元
);
CREATE TABLE sjtb_log (tbsj TEXT);
""",
    "tax": """
CREATE TABLE sb_sbxx (            -- 申报信息
  sbxh    INTEGER PRIMARY KEY,
  nsrsbh  TEXT NOT NULL,          -- 纳税人识别号 (自然人为身份证号)
  nsrmc   TEXT,
  nsrlx   TEXT,                   -- 1 自然人 2 个体工商户
  skssqq  TEXT,                   -- 税款所属期起 YYYY-MM-DD
  skssqz  TEXT,                   -- 税款所属期止
  ynssde  TEXT,                   -- 应纳税所得额 元
  yjse    TEXT                    -- 已缴税额 元
);
CREATE TABLE xt_tbrz (tbsj TEXT);
""",
}

#: built after the bulk load (faster than maintaining them row by row)
INDEXES: dict[str, list[str]] = {
    "public-security": [
        "CREATE INDEX ix_hj_person_hh ON hj_person(hh)",
        "CREATE INDEX ix_hj_qyjl_sfzh ON hj_qyjl(sfzh)",
        "CREATE INDEX ix_jdc_vehicle_syr ON jdc_vehicle(syr_sfzh)",
    ],
    "housing": [
        "CREATE INDEX IX_RE_HOLDER_CERT_NO ON RE_HOLDER(HOLDER_CERT_NO)",
        "CREATE INDEX IX_HS_SUBSIDY_APPL ON HS_SUBSIDY(APPL_CERT_NO)",
    ],
    "human-resources": [
        "CREATE UNIQUE INDEX ix_ac01_aac002 ON ac01(aac002)",
        "CREATE INDEX ix_ac02_aac001 ON ac02(aac001)",
        "CREATE INDEX ix_ac43_aac001 ON ac43(aac001)",
        "CREATE INDEX ix_ic10_aac001 ON ic10(aac001)",
        "CREATE INDEX ix_jc20_aac001 ON jc20(aac001)",
        "CREATE INDEX ix_jy_dj_aac002 ON jy_dj(aac002)",
    ],
    "civil-affairs": [
        "CREATE INDEX ix_hy_djxx_zjhm ON hy_djxx(zjhm)",
        "CREATE INDEX ix_jz_ffxx_zjhm ON jz_ffxx(zjhm)",
        "CREATE INDEX ix_mfqy_fddbr ON mfqy_djxx(fddbr_zjhm)",
    ],
    "banks": [
        "CREATE INDEX IX_DEP_ACCT_CUST ON DEP_ACCT(CUST_CERT_NO)",
        "CREATE INDEX IX_SEC_POS_CUST ON SEC_POS(CUST_CERT_NO)",
        "CREATE INDEX IX_PROP_INC_CUST ON PROP_INC(CUST_CERT_NO)",
    ],
    "provident-fund": [
        "CREATE INDEX ix_gr_zh_zjhm ON gr_zh(zjhm)",
        "CREATE INDEX ix_gr_tq_grzh ON gr_tq(grzh)",
        "CREATE INDEX ix_dk_ht_jkr ON dk_ht(jkr_zjhm)",
    ],
    "market-regulation": [
        "CREATE INDEX ix_e_inv_person_cerno ON e_inv_person(cerno)",
        "CREATE INDEX ix_an_baseinfo_pripid ON an_baseinfo(pripid)",
    ],
    "tax": ["CREATE INDEX ix_sb_sbxx_nsrsbh ON sb_sbxx(nsrsbh)"],
}

#: (table, timestamp column, how the department writes its last sync time)
SYNC_LOG: dict[str, tuple[str, str, Callable[[date], str]]] = {
    "public-security": ("sjtb_rz", "tbsj", lambda d: f"{ymd(d)}235900"),
    "housing": ("SYS_SYNC", "SYNC_TIME", lambda d: f"{iso(d)} 23:30:00"),
    "human-resources": ("xt_sjtb", "tbrq", lambda d: ymd(d) or ""),
    "civil-affairs": ("sjtb", "tbsj", lambda d: f"{iso(d)} 22:00:00"),
    "banks": ("ETL_BATCH", "BIZ_DT", lambda d: ymd(d) or ""),
    "provident-fund": ("xt_rq", "ywrq", lambda d: ymd(d) or ""),
    "market-regulation": ("sjtb_log", "tbsj", lambda d: f"{iso(d)} 21:00:00"),
    "tax": ("xt_tbrz", "tbsj", lambda d: f"{iso(d)} 20:00:00"),
}

# Department codes, keyed by the model's value.
RELATION_CODES = {  # GB/T 4761 家庭关系代码; the spouse code depends on sex
    "RELATION_SELF": "02", "RELATION_CHILD": ("20", "30"), "RELATION_PARENT": ("51", "52"),
    "RELATION_SPOUSE": ("11", "12"),
}
VEHICLE_TYPES = {"car": ("K33", "02"), "suv": ("K31", "02"), "truck": ("H31", "01"),
                 "motorcycle": ("M22", "07"), "low-speed": ("N11", "01")}
VEHICLE_STATUS = {"STATUS_REGISTERED": "A", "STATUS_TRANSFERRED": "B", "STATUS_STOLEN": "C",
                  "STATUS_SCRAPPED": "E"}
USAGE = {"residential": "10", "commercial": "21", "office": "22", "parking": "31"}
HOUSING_PROGRAMMES = {"rent-subsidy": "ZLBT", "low-rent-housing": "LZF",
                      "public-rental-housing": "GZF"}
SCHEMES = {("SCHEME_PENSION", "employee"): "110", ("SCHEME_UNEMPLOYMENT", "employee"): "210",
           ("SCHEME_MEDICAL", "employee"): "310", ("SCHEME_MEDICAL", "resident"): "390"}
PENSION_SCHEMES = {"urban-employee": "11", "urban-rural-resident": "31"}
EMPLOYMENT = {"STATUS_EMPLOYED": "1", "STATUS_REGISTERED_UNEMPLOYED": "2",
              "STATUS_NOT_REGISTERED": "9"}
MARRIAGE = {"STATUS_SINGLE": "10", "STATUS_MARRIED": "20", "STATUS_WIDOWED": "30",
            "STATUS_DIVORCED": "40"}
ASSISTANCE = {"dibao": "01", "tekun": "02", "temporary": "03"}
DEPOSIT_KINDS = {"KIND_DEMAND": "1", "KIND_TIME": "2"}
SECURITY_KINDS = {"KIND_STOCK": "STK", "KIND_FUND": "FND", "KIND_BOND": "BND",
                  "KIND_WEALTH_PRODUCT": "WMP"}
INCOME_KINDS = {"KIND_INTEREST": "INT", "KIND_STOCK_DIVIDEND": "DIV",
                "KIND_BOND_INTEREST": "BDI", "KIND_FUND_DIVIDEND": "FDV"}
PF_STATUS = {"STATUS_ACTIVE": "0", "STATUS_SUSPENDED": "1", "STATUS_CLOSED": "9"}
PF_REASONS = {"house-purchase": "01", "rent": "02", "retirement": "03", "loan-repayment": "04"}
ENT_TYPES = {"KIND_COMPANY": "1100", "KIND_PARTNERSHIP": "4100",
             "KIND_INDIVIDUAL_BUSINESS": "9600"}
ENT_STATES = {"STATUS_ACTIVE": "1", "STATUS_REVOKED": "2", "STATUS_DEREGISTERED": "3"}
POSITIONS = {"ROLE_OPERATOR": "JY", "ROLE_LEGAL_REPRESENTATIVE": "FR", "ROLE_SHAREHOLDER": "GD"}
TAXPAYER_KINDS = {"TAXPAYER_KIND_INDIVIDUAL": "1", "TAXPAYER_KIND_PRIVATE_BUSINESS": "2"}


class RowBuilder:
    """Turns households into department rows; owns the row ids so they stay stable."""

    def __init__(self, today: date, employers: list[str]) -> None:
        self.today = today
        self.stamp = f"{ymd(today)}080000"
        self.employer_ids = {name: 10_001 + i for i, name in enumerate(employers)}
        self.ids: dict[str, int] = {}

    def _next(self, table: str) -> int:
        n = self.ids.get(table, 0) + 1
        self.ids[table] = n
        return n

    def employers(self) -> list[tuple[object, ...]]:
        return [(i, name) for name, i in self.employer_ids.items()]

    def add(self, h: Household, out: dict[str, Rows]) -> None:
        """Append every department's rows for one household to ``out[department][table]``."""
        ps, hs, hr = out["public-security"], out["housing"], out["human-resources"]
        ca, bk, pf = out["civil-affairs"], out["banks"], out["provident-fund"]
        mr, tx = out["market-regulation"], out["tax"]
        nxt = self._next
        emp = self.employer_ids
        for p in h.registered:
            rel = RELATION_CODES[p.relation]
            code = rel if isinstance(rel, str) else rel[p.sex - 1]
            ps["hj_person"].append((
                p.id_number, p.name, str(p.sex), ymd(p.birth), h.hukou_number, h.region_code,
                code, "1" if p.deceased_on else "0", ymd(p.deceased_on), self.stamp))
            for mv in p.moves:
                ps["hj_qyjl"].append((nxt("hj_qyjl"), p.id_number, ymd(mv.date),
                                      mv.from_region_code, mv.to_region_code))
            if p.deceased_on is not None:
                continue
            for v in p.vehicles:
                cllx, hpzl = VEHICLE_TYPES[v.detail]
                ps["jdc_vehicle"].append((
                    v.plate, hpzl, p.id_number, cllx, v.displacement_ml, ymd(v.purchase_date),
                    yuan(v.purchase_price_fen), v.assessed_value_fen // 100,
                    VEHICLE_STATUS[v.status]))
            for b in p.benefits:
                hs["HS_SUBSIDY"].append((
                    nxt("HS_SUBSIDY"), p.id_number, HOUSING_PROGRAMMES[b.programme],
                    yuan(b.monthly_amount_fen), ym(b.period.start), ym(b.period.end)))
            hr["ac01"].append((p.hr_no, p.id_number, p.name, str(p.sex), ymd(p.birth)))
            for e in p.insurance:
                hr["ac02"].append((
                    p.hr_no, SCHEMES[(e.scheme, e.scheme_detail)],
                    emp[e.employer] if e.employer else None, "1" if e.active else "3",
                    ymd(e.since),
                    None if e.monthly_contribution_base_fen is None
                    else e.monthly_contribution_base_fen // 100))
            for w in p.wages:
                hr["ac43"].append((p.hr_no, emp[w.employer], ym(w.month), yuan(w.amount_fen)))
            for pn in p.pensions:
                hr["ic10"].append((p.hr_no, PENSION_SCHEMES[pn.scheme],
                                   pn.monthly_amount_fen // 100, ymd(pn.since)))
            for u in p.unemployment_benefits:
                hr["jc20"].append((p.hr_no, yuan(u.monthly_amount_fen), ym(u.period.start),
                                   ym(u.period.end)))
            if p.employment is not None:
                hr["jy_dj"].append((p.id_number, EMPLOYMENT[p.employment.status],
                                    ymd(p.employment.since)))
            if p.marriage is not None:
                m = p.marriage
                ca["hy_djxx"].append((nxt("hy_djxx"), p.id_number, p.name, MARRIAGE[m.status],
                                      m.spouse_id_number, m.spouse_name, iso(m.since)))
            for a in p.assistance_payments:
                ca["jz_ffxx"].append((nxt("jz_ffxx"), p.id_number, ASSISTANCE[a.programme],
                                      yuan(a.monthly_amount_fen), ym(a.period.start),
                                      ym(a.period.end)))
            for g in p.ngo_registrations:
                ca["mfqy_djxx"].append((g.registration_number, g.name, p.id_number,
                                        iso(g.registered_on)))
            for d in p.deposits:
                n = nxt("DEP_ACCT")
                bk["DEP_ACCT"].append((f"62{n:017d}", p.id_number, d.institution,
                                       DEPOSIT_KINDS[d.kind], yuan(d.balance_fen),
                                       ymd(d.as_of)))
            for s in p.securities:
                bk["SEC_POS"].append((nxt("SEC_POS"), p.id_number, s.institution,
                                      SECURITY_KINDS[s.kind], s.market_value_fen, ymd(s.as_of)))
            for i in p.income:
                bk["PROP_INC"].append((nxt("PROP_INC"), p.id_number, i.institution,
                                       INCOME_KINDS[i.kind], yuan(i.amount_fen),
                                       ymd(i.period[0]), ymd(i.period[1])))
            a = p.pf_account
            if a is not None:
                pf["gr_zh"].append((a.account_number, p.id_number, p.name, PF_STATUS[a.status],
                                    yuan(a.monthly_contribution_fen), yuan(a.balance_fen),
                                    ymd(a.opened_on)))
                for wd in p.withdrawals:
                    pf["gr_tq"].append((nxt("gr_tq"), a.account_number, ymd(wd.date),
                                        yuan(wd.amount_fen), PF_REASONS[wd.reason]))
            for ln in p.loans:
                pf["dk_ht"].append((ln.contract, p.id_number, yuan(ln.outstanding_fen),
                                    yuan(ln.monthly_repayment_fen), ymd(ln.period[0]),
                                    ymd(ln.period[1])))
            for f in p.filings:
                tx["sb_sbxx"].append((nxt("sb_sbxx"), p.id_number, p.name,
                                      TAXPAYER_KINDS[f.taxpayer_kind], iso(f.period[0]),
                                      iso(f.period[1]), yuan(f.taxable_income_fen),
                                      yuan(f.tax_paid_fen)))
        for pr in h.properties:
            hs["RE_CERT"].append((pr.certificate_id, pr.address, pr.floor_area_m2,
                                  USAGE[pr.usage], iso(pr.acquired_on),
                                  pr.assessed_value_fen // 100))
            for holder, share in pr.holders:
                hs["RE_HOLDER"].append((nxt("RE_HOLDER"), pr.certificate_id, holder.id_number,
                                        holder.name, "1" if len(pr.holders) == 1 else "2",
                                        share))
        for b in h.businesses:
            pripid = f"31{b.registration_number[4:8]}{nxt('e_baseinfo'):010d}"
            mr["e_baseinfo"].append((pripid, b.registration_number, b.name, ENT_TYPES[b.kind],
                                     wan(b.capital_fen), ENT_STATES[b.status],
                                     iso(b.registered_on)))
            for person, role, capital in b.roles:
                mr["e_inv_person"].append((nxt("e_inv_person"), pripid, person.id_number,
                                           person.name, POSITIONS[role], wan(capital)))
            if b.annual_revenue_fen is not None:
                year = self.today.year - 1
                # an older report too, so the mapping must pick the latest one
                mr["an_baseinfo"].append((nxt("an_baseinfo"), pripid, str(year - 1),
                                          wan(b.annual_revenue_fen * 9 // 10)))
                mr["an_baseinfo"].append((nxt("an_baseinfo"), pripid, str(year),
                                          wan(b.annual_revenue_fen)))


def insert_sql(ddl: str) -> dict[str, str]:
    """``INSERT`` statements for every table of a DDL script, in column order."""
    out: dict[str, str] = {}
    for stmt in ddl.split(";"):
        lines = [ln.split("--")[0].strip() for ln in stmt.strip().splitlines()]
        text = " ".join(ln for ln in lines if ln)
        if not text.startswith("CREATE TABLE"):
            continue
        name = text.split()[2]
        body = text[text.index("(") + 1: text.rindex(")")]
        cols = [c.strip().split()[0] for c in body.split(",") if c.strip()]
        out[name] = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    return out
