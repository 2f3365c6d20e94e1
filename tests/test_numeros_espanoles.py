"""Las salidas de los cuadernos escriben los números a la española con `course_utils.formato`, no con Python.

Sin ejecutar nada: se lee el código de cada celda y se buscan los formatos que un lector hispanohablante leería
en inglés («14,714,688», «0.857», «85.7%»): en los campos de los f-strings, la agrupación (`:,`, `:_`) y los
tipos de coma flotante (`:.3f`, `:.1%`, `:.2e`, `:g`…); además, `"%.2f" % x`, `"{:.2f}".format(x)` y
`round(x, 2)` dentro de un f-string. Lo que no es para leer (una etiqueta, una clave) va en `PERMITIDOS`.
"""

import ast
import json
import re

import pytest

from course_utils import ejecucion

CUADERNOS = ejecucion.listar_cuadernos(todos=True)
TIPOS_EN_INGLES = set("eEfFgGn%")
PORCENTAJE_ANTIGUO = re.compile(r"%[-+ 0#]*\d*(\.\d+)?[eEfFgG]")
CAMPO_FORMAT = re.compile(r"\{[^{}]*:([^{}]*)\}")

# (cuaderno, f-string tal como está en el código): motivo. Corta y con el motivo de cada una.
PERMITIDOS = {
    ("05_fine_tuning.ipynb", 'f"tasa_{tasa:g}"'): "etiqueta del registro de entrenamiento (una clave), no se lee",
}


def _id(ruta):
    return ruta.relative_to(ejecucion.CARPETA_CUADERNOS).as_posix()


def _especificacion(nodo: ast.FormattedValue) -> str:
    """El texto del formato de un campo («.3f»); lo que va anidado entre llaves cuenta como «N»."""
    if nodo.format_spec is None:
        return ""
    return "".join(v.value if isinstance(v, ast.Constant) else "N" for v in nodo.format_spec.values)


def _en_ingles(especificacion: str) -> bool:
    return bool(especificacion) and (
        "," in especificacion or "_" in especificacion or especificacion[-1] in TIPOS_EN_INGLES
    )


def _hallazgos(codigo: str):
    """(línea, trozo de código, campo) de cada formato de número en inglés de una celda."""
    codigo = "\n".join("" if linea.lstrip().startswith(("%", "!")) else linea for linea in codigo.splitlines())
    arbol = ast.parse(codigo)
    for nodo in ast.walk(arbol):
        if isinstance(nodo, ast.JoinedStr):
            trozo = ast.get_source_segment(codigo, nodo)
            for campo in (v for v in nodo.values if isinstance(v, ast.FormattedValue)):
                redondeo = isinstance(campo.value, ast.Call) and ast.unparse(campo.value.func) in ("round", "np.round")
                especificacion = _especificacion(campo)
                if _en_ingles(especificacion) or (redondeo and len(campo.value.args) > 1):
                    campo_texto = (
                        "{" + ast.unparse(campo.value) + (f":{especificacion}" if especificacion else "") + "}"
                    )
                    yield nodo.lineno, trozo, campo_texto
        elif isinstance(nodo, ast.BinOp) and isinstance(nodo.op, ast.Mod) and isinstance(nodo.left, ast.Constant):
            if isinstance(nodo.left.value, str) and PORCENTAJE_ANTIGUO.search(nodo.left.value):
                yield nodo.lineno, ast.get_source_segment(codigo, nodo), nodo.left.value
        elif isinstance(nodo, ast.Call) and isinstance(nodo.func, ast.Attribute) and nodo.func.attr == "format":
            plantilla = nodo.func.value
            if isinstance(plantilla, ast.Constant) and isinstance(plantilla.value, str):
                if any(_en_ingles(m.group(1)) for m in CAMPO_FORMAT.finditer(plantilla.value)):
                    yield nodo.lineno, ast.get_source_segment(codigo, nodo), plantilla.value


def test_el_detector_reconoce_los_formatos_en_ingles():
    codigo = """
print(f"{n:,} parámetros")
print(f"{x:.3f} · {p:.1%} · {d:.2e} · {t:g} · {y:>8.2f} · {z:.{k}f}")
print(f"razón {round(r, 2)}")
print("%.2f" % x, "{:.1f}".format(x))
"""
    assert len(list(_hallazgos(codigo))) == 10
    bien = """
print(f"{formato.entero(n)} parámetros · {formato.decimal(x, 3):>8} · {i:04d} · {nombre:<12} · {round(x)}")
ruta = f"{clase}_{i:03d}.jpg"
%matplotlib inline
"""
    assert list(_hallazgos(bien)) == []


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_las_salidas_usan_formato_espanol(cuaderno):
    nombre = _id(cuaderno)
    malos = []
    for celda in json.loads(cuaderno.read_text(encoding="utf-8"))["cells"]:
        if celda["cell_type"] != "code":
            continue
        for linea, trozo, campo in _hallazgos("".join(celda["source"])):
            if (nombre, trozo) not in PERMITIDOS:
                malos.append(f"celda {celda.get('id')}, línea {linea}: {campo}")
    assert not malos, (
        f"{nombre}: números con formato inglés en la salida; usa course_utils.formato (entero, decimal, porcentaje, "
        "cientifico, significativas) o, si no es para leer, añádelo a PERMITIDOS con su motivo:\n" + "\n".join(malos)
    )


def test_los_permitidos_siguen_existiendo():
    """Una excepción que ya no está en su cuaderno sobra: la lista debe seguir siendo corta y cierta."""
    hallados = set()
    for cuaderno in CUADERNOS:
        for celda in json.loads(cuaderno.read_text(encoding="utf-8"))["cells"]:
            if celda["cell_type"] == "code":
                hallados |= {(_id(cuaderno), trozo) for _, trozo, _ in _hallazgos("".join(celda["source"]))}
    assert set(PERMITIDOS) <= hallados, f"excepciones que ya no hacen falta: {set(PERMITIDOS) - hallados}"
