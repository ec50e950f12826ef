"""Generate the JSON Schema files of the payload models.

Run `python -m schemas.export` after changing a model and commit the result.
"""

import json
from pathlib import Path

from schemas.events import PAYLOADS

SCHEMA_DIR = Path(__file__).resolve().parent / "json"


def render_schemas() -> dict[str, str]:
    """Return file name -> JSON text for every registered event type."""
    rendered = {}
    for event_type, model in PAYLOADS.items():
        schema = model.model_json_schema()
        schema["$id"] = f"urn:tidings:schema:{event_type}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False)
        rendered[f"{event_type}.json"] = text + "\n"
    return rendered


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas():
        print(path)
