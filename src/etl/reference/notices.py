"""What a site's error, block, challenge or maintenance page says of itself ("您访问的页面不存在", "请求已被拦截",
"网站正在维护", a stock "404 Not Found"), the way a reader knows it at a glance: read by the parser (such a page is
not the article) and by discovery (such a list page is not the column), so it sits below both."""

from __future__ import annotations

import re

# An error, block or challenge notice is a sentence or two; a bulletin that quotes one runs longer.
MAX_NOTICE_CHARS = 300

_SIGNS = re.compile(
    "|".join(
        (
            # 您访问的页面不存在 / 您所查看的信息已删除 / 该文章已撤稿 / 页面未找到
            r"(?:您|你)?所?(?:要)?(?:访问|请求|查看|浏览|查找)的(?:页面|网页|信息|文章|内容|资源|链接)"
            r"(?:不存在|已被?删除|已过期|已下线|已撤[销回稿]|已失效|无法访问)",
            r"(?:页面|网页)(?:不存在|未找到|找不到|无法(?:找到|访问|显示)|已被?删除|丢失)",
            r"(?:该|此)(?:信息|文章|稿件|内容|页面|网页)(?:不存在|已被?删除|已撤[销回稿]|已下线|已过期)",
            # a web application firewall's block page
            r"(?:访问|请求)(?:已|被|已被)(?:拦截|拒绝|阻断|禁止)",
            r"网站防火墙|安全狗|创宇盾|云锁|Web\s*应用防火墙|网站卫士",
            # a browser check
            r"请(?:开启|启用|打开)(?:浏览器的?)?\s*(?:JavaScript|JS|Cookie)",
            r"(?:浏览器|访问)安全(?:检查|验证)|正在(?:进行)?安全(?:检查|验证)|人机验证",
            # a maintenance notice
            r"(?:网站|系统)(?:正在)?(?:升级)?维护中|(?:网站|系统)正在(?:升级)?维护|(?:网站|系统)正在升级",
            # a server's stock error page served with 200
            r"\b(?:40[34]|50[0234])\b[^\n]{0,20}?(?:not found|forbidden|error|bad gateway|unavailable)",
            r"page not found|access denied|checking your browser|service (?:temporarily )?unavailable",
        )
    ),
    re.IGNORECASE,
)
# a title that is a status code and nothing else
_STATUS_TITLE = re.compile(r"\s*(?:40[034]|50[0234])\s*(?:错误)?\s*")


def error_notice(title: str, text: str) -> str | None:
    """What a short page says that makes it a site's error, block or challenge page and not a bulletin (the
    words found), or None."""
    if len(text) > MAX_NOTICE_CHARS:
        return None
    if _STATUS_TITLE.fullmatch(title or ""):
        return title.strip()
    m = _SIGNS.search(f"{title}\n{text}")
    return m.group(0) if m else None


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def html_title(html: str) -> str | None:
    """A page's ``<title>`` (whitespace collapsed), or None when it has none."""
    m = _TITLE.search(html[:20000])
    return " ".join(m.group(1).split()) if m else None


def title_notice(html: str) -> str | None:
    """:func:`error_notice` of a page that has no main text to read, by its ``<title>`` alone (a server's
    stock "404 Not Found" page is a title and a heading)."""
    title = html_title(html)
    return error_notice(title, "") if title is not None else None


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.IGNORECASE | re.DOTALL)


def page_notice(html: str) -> str | None:
    """:func:`error_notice` of a whole page, by its ``<title>`` and its visible text (a list page has no main
    text to pick out): what a column's address answers when the column has moved or the site blocks us."""
    text = " ".join(_TAGS.sub(" ", html[:200_000]).split())
    return error_notice(html_title(html) or "", text)
