"""El temario del curso: los cuadernos en orden, sus objetivos y sus tiempos por modo.

Los tiempos se leen de la tabla «Temario» del README, que es la única fuente (medidos en
una CPU de 2 núcleos); el título y los objetivos, de las celdas de cada cuaderno. El widget
`widgets.mapa_del_curso` los muestra.
"""

from __future__ import annotations

import ast
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


# --- Dónde se usa cada ayudante (índice generado, nunca escrito a mano) ---------------------------

ARCHIVO_DONDE_SE_USA = Path(__file__).with_name("DONDE_SE_USA.md")
_ALIAS = {"cfg": "config", "reg": "registros"}  # los alias con que los cuadernos importan algunos módulos


def donde_se_usa(carpeta: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Para cada módulo de `course_utils`, qué cuadernos usan cada uno de sus nombres (`modulo.nombre`)."""
    modulos = {p.stem: _nombres_publicos(p) for p in Path(__file__).parent.glob("*.py") if p.stem[0] != "_"}
    patron = re.compile(r"\b(" + "|".join(sorted(set(modulos) | set(_ALIAS))) + r")\.([A-Za-z_]\w*)")
    indice: dict[str, dict[str, set[str]]] = {}
    raiz = Path(carpeta or ejecucion.CARPETA_CUADERNOS)
    for cuaderno in ejecucion.listar_cuadernos(todos=True, carpeta=raiz):
        celdas = json.loads(cuaderno.read_text(encoding="utf-8")).get("cells", [])
        codigo = "\n".join("".join(c.get("source", "")) for c in celdas if c.get("cell_type") == "code")
        nombre = cuaderno.relative_to(raiz).with_suffix("").as_posix()
        for modulo, atributo in patron.findall(codigo):
            modulo = _ALIAS.get(modulo, modulo)
            if atributo in modulos[modulo]:  # `informe.texto` es una variable del cuaderno, no el módulo
                indice.setdefault(modulo, {}).setdefault(atributo, set()).add(nombre)
    return {m: {a: sorted(c) for a, c in sorted(usos.items())} for m, usos in sorted(indice.items())}


def _nombres_publicos(ruta: Path) -> set[str]:
    """Nombres definidos en lo alto de un módulo (funciones, clases y constantes), sin importarlo."""
    nombres = set()
    for nodo in ast.parse(ruta.read_text(encoding="utf-8")).body:
        if isinstance(nodo, ast.FunctionDef | ast.ClassDef):
            nombres.add(nodo.name)
        elif isinstance(nodo, ast.Assign):
            nombres |= {t.id for t in nodo.targets if isinstance(t, ast.Name)}
        elif isinstance(nodo, ast.ImportFrom):
            nombres |= {a.asname or a.name for a in nodo.names}
    return nombres


def markdown_donde_se_usa(indice: dict[str, dict[str, list[str]]]) -> str:
    """El índice «dónde se usa» en Markdown: un apartado por módulo y una fila por nombre."""
    lineas = [
        "# Dónde se usa cada ayudante de `course_utils`",
        "",
        "Generado por `temario.escribir_donde_se_usa()` a partir del código de los cuadernos; una prueba",
        "comprueba que está al día. No se edita a mano.",
    ]
    for modulo, usos in indice.items():
        lineas += ["", f"## `{modulo}`", "", "| nombre | cuadernos |", "|---|---|"]
        lineas += [f"| `{nombre}` | {', '.join(cuadernos)} |" for nombre, cuadernos in usos.items()]
    return "\n".join(lineas) + "\n"


def escribir_donde_se_usa() -> Path:
    """Regenera `course_utils/DONDE_SE_USA.md` (mantenimiento: tras cambiar un cuaderno)."""
    ARCHIVO_DONDE_SE_USA.write_text(markdown_donde_se_usa(donde_se_usa()), encoding="utf-8")
    return ARCHIVO_DONDE_SE_USA
