"""Benchmark data: catalogs built from the corpus with variations, and a
judged query set.

Variations copy a corpus product and change its title (colour, size,
edition), price and stock, the way a real catalog lists one model many
times. Judgments come from labels the corpus already has, not from any
search system. A query that names a category is relevant to the products
of that category. A litemall-zh hot keyword (a real user query) is
relevant to the products whose title contains it.
"""

import csv
from dataclasses import dataclass, field

from tests.catalog_corpus import (
    CATALOG_DIR,
    Product,
    hot_keywords,
    litemall_products,
    magento_products,
    vendure_products,
)
from tidings.catalog_text import fold

EN_FIRST = ["Black", "Navy", "Olive", "Red", "Grey", "White", "Sand", "Teal"]
EN_SECOND = ["XS", "S", "M", "L", "XL", "Classic", "Pro", "Lite", "Plus", "Mini"]
ZH_FIRST = ["黑色", "白色", "灰色", "蓝色", "红色", "米色", "粉色", "绿色"]
ZH_SECOND = ["大号", "小号", "中号", "加厚", "升级款", "经典款", "礼盒装", "两件装"]


def variation(product: Product, number: int) -> Product:
    """Return the `number`-th variation of a corpus product."""
    chinese = product["currency"] == "CNY"
    first, second = (ZH_FIRST, ZH_SECOND) if chinese else (EN_FIRST, EN_SECOND)
    a = first[number % len(first)]
    b = second[(number // len(first)) % len(second)]
    edition = number // (len(first) * len(second))
    title = f"{product['title']} {a} {b}" + (f" {edition + 1}" if edition else "")
    price = product.get("price")
    return {
        **product,
        "product_id": f"{product['product_id']}-v{number}",
        "title": title,
        "price": round(price * (0.8 + 0.05 * (number % 9)), 2) if price else price,
        "stock": 0 if number % 10 == 0 else 5 + number % 40,
        "version": 1,
    }


def varied_catalog(base: list[Product], count: int) -> list[Product]:
    """Return `count` products cycling through `base`, each a new variation."""
    return [variation(base[i % len(base)], i // len(base)) for i in range(count)]


def corpus_base() -> list[Product]:
    return litemall_products() + magento_products() + vendure_products()


@dataclass
class JudgedQuery:
    query: str
    language: str  # "zh" or "en"
    source: str
    grades: dict[str, int] = field(default_factory=dict)


def _category_queries(products: list[Product], language: str) -> list[JudgedQuery]:
    queries: dict[str, JudgedQuery] = {}
    for product in products:
        path = product["category_path"]
        if not path:
            continue
        leaf = path[-1]
        text = " ".join(leaf.replace("&", " ").split()).lower()
        judged = queries.setdefault(text, JudgedQuery(text, language, "category name"))
        judged.grades[product["product_id"]] = 2
    for judged in queries.values():
        for product in products:
            parent = product["category_path"][:-1]
            pid = product["product_id"]
            if (
                pid not in judged.grades
                and parent
                and any(fold(judged.query) in fold(level).lower() for level in parent)
            ):
                judged.grades[pid] = 1
    return list(queries.values())


def _keyword_queries(products: list[Product]) -> list[JudgedQuery]:
    judged = []
    for keyword in hot_keywords():
        query = JudgedQuery(keyword, "zh", "litemall hot keyword")
        for product in products:
            if fold(keyword) in fold(product["title"]):
                query.grades[product["product_id"]] = 2
            elif fold(keyword) in fold(product["description"]):
                query.grades[product["product_id"]] = 1
        judged.append(query)
    return judged


def judged_queries(products: list[Product]) -> list[JudgedQuery]:
    """Return the judged queries over `products` that have a relevant product."""
    chinese = [p for p in products if p["currency"] == "CNY"]
    english = [p for p in products if p["currency"] != "CNY"]
    queries = (
        _keyword_queries(chinese)
        + _category_queries(chinese, "zh")
        + _category_queries(english, "en")
    )
    return [q for q in queries if q.grades]


def real_queries(limit: int) -> list[str]:
    """Return real user queries: Wayfair (English) and Taobao (Chinese)."""
    queries = []
    for name, column in (
        ("wands-queries-en/query.tsv", "query"),
        ("multicpr-ecom-queries-zh/dev.query.tsv", "query"),
    ):
        with (CATALOG_DIR / name).open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file, delimiter="\t"))
        queries += [row[column] for row in rows[:limit]]
    return queries
