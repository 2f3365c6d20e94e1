"""El temario del curso: los cuadernos en orden, sus objetivos y sus tiempos por modo.

Los tiempos se leen de la tabla «Temario» del README, que es la única fuente (medidos en
una CPU de 2 núcleos); el título y los objetivos, de las celdas de cada cuaderno. El widget
`widgets.mapa_del_curso` los muestra.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from course_utils import ejecucion

MODOS = (("rapido", "rápido"), ("clase", "clase"), ("completo", "completo"))


def tiempos_readme(readme: Path) -> dict[str, dict[str, str]]:
    """Tiempos por modo de cada cuaderno, leídos de la tabla «Temario» del README."""
    if not Path(readme).is_file():
        return {}
    tiempos, columnas = {}, None
    for linea in Path(readme).read_text(encoding="utf-8").splitlines():
        celdas = [c.strip() for c in linea.strip().strip("|").split("|")] if linea.startswith("|") else []
        if celdas and celdas[0] == "cuaderno":
            columnas = {nombre: i for i, nombre in enumerate(celdas)}
        elif celdas and columnas and (nombre := re.match(r"`(\d\d_\w+)`", celdas[0])):
            tiempos[nombre.group(1)] = {
                modo: celdas[columnas[titulo]] for modo, titulo in MODOS if columnas.get(titulo, 99) < len(celdas)
            }
        elif not celdas:
            columnas = None
    return tiempos


def ficha_cuaderno(cuaderno: Path) -> dict:
    """Título y objetivos de un cuaderno, leídos de sus celdas `# NN · Título` y `## Objetivos`."""
    try:
        celdas = json.loads(Path(cuaderno).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        celdas = []
    textos = ["".join(c.get("source", "")) for c in celdas if c.get("cell_type") == "markdown"]
    titulo = next((t.splitlines()[0].lstrip("# ").strip() for t in textos if t.startswith("# ")), cuaderno.stem)
    objetivos_md = next((t for t in textos if t.startswith("## Objetivos")), "")
    objetivos: list[str] = []
    for linea in objetivos_md.splitlines()[1:]:
        if linea.startswith("- "):
            objetivos.append(linea[2:].strip())
        elif linea.strip() and objetivos:
            objetivos[-1] += " " + linea.strip()
    return {"nombre": cuaderno.stem, "titulo": titulo, "objetivos": objetivos}


def fichas(carpeta: Path | None = None) -> list[dict]:
    """La ficha (título y objetivos) de cada cuaderno principal de `carpeta`, en orden."""
    carpeta = Path(carpeta or ejecucion.CARPETA_CUADERNOS)
    return [ficha_cuaderno(c) for c in ejecucion.listar_cuadernos(carpeta=carpeta)]


def tiempos(carpeta: Path | None = None) -> dict[str, dict[str, str]]:
    """Los tiempos por modo del README que está junto a la carpeta de cuadernos."""
    return tiempos_readme(Path(carpeta or ejecucion.CARPETA_CUADERNOS).parent / "README.md")
