"""The eight departments' official names, Chinese and English: part of the contract
every component shows them by (agents, the gateway's reports, the console's pages)."""

from __future__ import annotations

#: department id → (中文, English)
TITLES: dict[str, tuple[str, str]] = {
    "public-security": ("公安", "Public security"),
    "housing": ("住房和城乡建设", "Housing"),
    "human-resources": ("人力资源和社会保障", "Human resources and social security"),
    "civil-affairs": ("民政", "Civil affairs"),
    "banks": ("银行及金融机构", "Banks and financial institutions"),
    "provident-fund": ("住房公积金", "Housing provident fund"),
    "market-regulation": ("市场监督管理", "Market regulation"),
    "tax": ("税务", "Tax"),
}
