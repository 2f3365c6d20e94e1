"""La casa en orden: módulos pequeños, importaciones que solo apuntan hacia abajo y nada de sys.path."""

import ast
from pathlib import Path

import pytest

PAQUETE = Path(__file__).resolve().parents[1] / "course_utils"
MODULOS = {p.stem: p for p in sorted(PAQUETE.glob("*.py")) if p.stem != "__init__"}
MAX_LINEAS = 450
# Los que orquestan: nadie del paquete los importa salvo la línea de órdenes.
ORQUESTADORES = {"rejilla", "widgets", "laboratorio", "__main__"}


def _importados(ruta: Path) -> set[str]:
    """Módulos de course_utils que importa un archivo, también dentro de funciones."""
    nombres = set()
    for nodo in ast.walk(ast.parse(ruta.read_text(encoding="utf-8"))):
        if isinstance(nodo, ast.ImportFrom) and nodo.module == "course_utils":
            nombres |= {a.name for a in nodo.names}
        elif isinstance(nodo, ast.ImportFrom) and (nodo.module or "").startswith("course_utils."):
            nombres.add(nodo.module.split(".")[1])
        elif isinstance(nodo, ast.Import):
            nombres |= {a.name.split(".")[1] for a in nodo.names if a.name.startswith("course_utils.")}
    return nombres & set(MODULOS)


GRAFO = {nombre: _importados(ruta) for nombre, ruta in MODULOS.items()}
# El orden de las capas del README («Estructura»): cada módulo solo importa de los anteriores.
CAPAS = (
    "dispositivo config terminal ejercicios formato estadistica inspeccion particion demo datos registros medicion "
    "squeezenet arquitecturas caracteristicas entrenamiento estrategias resultados comparaciones graficos informe "
    "gradcam exportacion panel planificacion rejilla ejecucion temario widgets laboratorio __main__"
).split()


def test_las_importaciones_solo_apuntan_hacia_abajo():
    assert set(CAPAS) == set(MODULOS), f"módulos sin capa en CAPAS (y en el README): {set(MODULOS) ^ set(CAPAS)}"
    posicion = {nombre: i for i, nombre in enumerate(CAPAS)}
    hacia_arriba = [(m, i) for m, importados in GRAFO.items() for i in importados if posicion[i] >= posicion[m]]
    assert not hacia_arriba, f"importaciones hacia arriba (módulo → importado): {hacia_arriba}"


@pytest.mark.parametrize("nombre", sorted(MODULOS))
def test_ningun_modulo_pasa_de_450_lineas(nombre):
    lineas = len(MODULOS[nombre].read_text(encoding="utf-8").splitlines())
    assert lineas <= MAX_LINEAS, f"course_utils/{nombre}.py tiene {lineas} líneas: pártelo por responsabilidades."


def test_las_importaciones_no_forman_ciclos():
    visitando, hechos = set(), set()

    def visitar(nombre, camino):
        if nombre in hechos:
            return
        assert nombre not in visitando, "ciclo de importaciones: " + " → ".join([*camino, nombre])
        visitando.add(nombre)
        for otro in sorted(GRAFO[nombre]):
            visitar(otro, [*camino, nombre])
        visitando.discard(nombre)
        hechos.add(nombre)

    for nombre in sorted(GRAFO):
        visitar(nombre, [])


def test_nadie_importa_a_los_orquestadores():
    for nombre, importados in GRAFO.items():
        if nombre != "__main__":
            assert not importados & ORQUESTADORES, f"{nombre} importa {importados & ORQUESTADORES} (hacia arriba)"
    medir = Path(__file__).resolve().parents[1] / "benchmarks" / "medir.py"
    assert not _importados(medir) & ORQUESTADORES


def test_un_solo_compile_y_un_solo_lector_de_imagenes():
    fuentes = {n: r.read_text(encoding="utf-8") for n, r in MODULOS.items()}
    con_compile = sorted(n for n, s in fuentes.items() if ".compile(" in s.replace("re.compile(", ""))
    assert con_compile == ["entrenamiento"], f"`compile` escrito fuera de entrenamiento.compilar: {con_compile}"
    con_open = sorted(n for n, s in fuentes.items() if "Image.open(" in s)
    assert set(con_open) <= {"datos", "inspeccion"}, f"imágenes abiertas fuera de datos/inspeccion: {con_open}"


def test_la_linea_de_ordenes_ofrece_las_mismas_estrategias():
    from course_utils import __main__ as cli
    from course_utils import estrategias

    assert cli.ESTRATEGIAS_CLI == estrategias.ESTRATEGIAS


def test_el_indice_donde_se_usa_esta_al_dia():
    from course_utils import temario

    generado = temario.markdown_donde_se_usa(temario.donde_se_usa())
    assert temario.ARCHIVO_DONDE_SE_USA.read_text(encoding="utf-8") == generado, (
        "course_utils/DONDE_SE_USA.md no está al día: regenéralo con "
        "`python -c 'from course_utils import temario; temario.escribir_donde_se_usa()'`."
    )
