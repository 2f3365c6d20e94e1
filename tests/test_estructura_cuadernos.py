"""Los cuadernos se guardan sin salidas, con una sola celda `parameters` y el esqueleto del curso."""

import json
import re

import pytest

from course_utils import ejecucion

CUADERNOS = ejecucion.listar_cuadernos(todos=True)
ESQUELETO = ["## Objetivos", "## Configuración", "## Resumen", "## Ejercicios"]
TOCA_SYS_PATH = re.compile(r"sys\.path\.(insert|append)\(")


def _leer(ruta):
    return json.loads(ruta.read_text(encoding="utf-8"))


def _id(ruta):
    return ruta.relative_to(ejecucion.CARPETA_CUADERNOS).as_posix()


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_sin_salidas(cuaderno):
    for celda in _leer(cuaderno)["cells"]:
        if celda["cell_type"] == "code":
            assert celda.get("outputs") == [] and celda.get("execution_count") is None, _id(cuaderno)


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_una_sola_celda_parameters_con_el_modo(cuaderno):
    marcadas = [c for c in _leer(cuaderno)["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(marcadas) == 1, f"{_id(cuaderno)}: {len(marcadas)} celdas con la etiqueta parameters"
    assert "MODO" in "".join(marcadas[0]["source"])


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_esqueleto(cuaderno):
    celdas = _leer(cuaderno)["cells"]
    titulos = [
        linea.strip()
        for c in celdas
        if c["cell_type"] == "markdown"
        for linea in "".join(c["source"]).splitlines()
        if linea.startswith("#")
    ]
    assert titulos and titulos[0].startswith("# "), f"{_id(cuaderno)}: falta el título"
    esperados = ESQUELETO if cuaderno.parent == ejecucion.CARPETA_CUADERNOS else ESQUELETO[:2]
    posiciones = [next((i for i, t in enumerate(titulos) if t.startswith(e)), None) for e in esperados]
    assert None not in posiciones, f"{_id(cuaderno)}: faltan secciones {esperados}"
    assert posiciones == sorted(posiciones), f"{_id(cuaderno)}: secciones fuera de orden"
    parametros = next(i for i, c in enumerate(celdas) if "parameters" in c.get("metadata", {}).get("tags", []))
    configuracion = next(i for i, c in enumerate(celdas) if "## Configuración" in "".join(c["source"]))
    assert parametros > configuracion


def test_nombres_ordenados_y_ascii():
    for cuaderno in CUADERNOS:
        assert cuaderno.name.isascii() and cuaderno.name[:2].isdigit() and cuaderno.name[2] == "_"


def test_cada_ejercicio_tiene_su_solucion():
    ejercicios = {p.name for p in (ejecucion.CARPETA_CUADERNOS / "ejercicios").glob("*.ipynb")}
    soluciones = {p.name for p in (ejecucion.CARPETA_CUADERNOS / "soluciones").glob("*.ipynb")}
    assert ejercicios == soluciones


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_importan_el_paquete_instalado_sin_tocar_sys_path(cuaderno):
    fuente = "".join("".join(c["source"]) for c in _leer(cuaderno)["cells"] if c["cell_type"] == "code")
    assert not TOCA_SYS_PATH.search(fuente), f"{_id(cuaderno)}: course_utils se instala con `pip install -e .`"


def test_pruebas_y_benchmarks_sin_sys_path():
    raiz = ejecucion.CARPETA_CUADERNOS.parent
    for ruta in [*sorted((raiz / "tests").glob("*.py")), *sorted((raiz / "benchmarks").glob("*.py"))]:
        lineas = [x for x in ruta.read_text(encoding="utf-8").splitlines() if TOCA_SYS_PATH.search(x)]
        assert not lineas, f"{ruta.relative_to(raiz)} toca sys.path: {lineas}"
