"""Ejecuta cada cuaderno de `notebooks/` en modo rápido con papermill (los nuevos se recogen solos).

Cada cuaderno escribe en su propia carpeta de resultados, así que ninguna prueba depende del orden ni de que se
ejecuten las demás: `pytest tests/test_notebooks.py -k 06_comparativa` pasa solo. Los que parten de lo que deja
otro (`DEPENDE_DE`) empiezan con una copia de su carpeta, y ese otro se ejecuta antes si aún no se ha ejecutado
en la sesión (una sola vez: el tiempo total no crece). Cada celda tiene un tiempo máximo (`ejecucion.timeout_celda`).
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from course_utils import ejecucion

pytestmark = pytest.mark.cuadernos

CUADERNOS = ejecucion.listar_cuadernos(todos=True)
# El 08 elige su receta con el informe de la rejilla que escribe el 06 (si no lo hay, usa la receta por defecto).
DEPENDE_DE = {"08_tus_propios_datos.ipynb": "06_comparativa.ipynb"}


def _id(cuaderno: Path) -> str:
    return cuaderno.relative_to(ejecucion.CARPETA_CUADERNOS).as_posix()


@pytest.fixture(scope="session")
def ejecutar(tmp_path_factory):
    """`ejecutar(cuaderno)` → (copia ejecutada, carpeta de resultados); cada cuaderno, una vez por sesión."""
    hechos: dict[str, tuple[Path, Path] | BaseException] = {}
    build = os.environ.get("CURSO_BUILD_DIR")
    salida = Path(build) if build else tmp_path_factory.mktemp("build")

    def ejecutar_(cuaderno: Path) -> tuple[Path, Path]:
        clave = _id(cuaderno)
        if clave not in hechos:
            try:
                resultados = tmp_path_factory.mktemp(f"resultados_{cuaderno.stem}")
                if clave in DEPENDE_DE:
                    previo = DEPENDE_DE[clave]
                    try:
                        _, previos = ejecutar_(ejecucion.CARPETA_CUADERNOS / previo)
                    except Exception as exc:
                        raise RuntimeError(f"{clave} parte de los resultados de {previo}, que ha fallado") from exc
                    shutil.copytree(previos, resultados, dirs_exist_ok=True)
                with pytest.MonkeyPatch.context() as entorno:
                    entorno.setenv("CURSO_MODO", "rapido")
                    entorno.setenv("CURSO_RESULTADOS_DIR", str(resultados))
                    entorno.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
                    hechos[clave] = (ejecucion.ejecutar_cuaderno(cuaderno, "rapido", salida), resultados)
            except Exception as exc:  # se recuerda: quien dependa de él falla sin volver a ejecutarlo
                hechos[clave] = exc
        if isinstance(hechos[clave], BaseException):
            raise hechos[clave]
        return hechos[clave]

    return ejecutar_


def test_hay_cuadernos():
    assert len(CUADERNOS) >= 2


def test_las_dependencias_son_cuadernos_del_curso():
    nombres = {_id(c) for c in CUADERNOS}
    assert set(DEPENDE_DE) | set(DEPENDE_DE.values()) <= nombres


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=_id)
def test_cuaderno_se_ejecuta_en_modo_rapido(cuaderno: Path, ejecutar):
    destino, _ = ejecutar(cuaderno)
    assert destino.exists()
    ruido = _ruido_de_tensorflow(destino)
    assert not ruido, (
        f"{destino.name}: salidas con ruido de TensorFlow (en inglés, sin valor para el alumno): {ruido[:3]}"
    )
    if cuaderno.parent.name == "ejercicios":
        _comprobaciones_fallan_sin_resolver(destino)


RUIDO_TF = ("WARNING:tensorflow", "triggered tf.function retracing", "oneDNN custom operations", "absl::", "cuda_")


def _ruido_de_tensorflow(destino: Path) -> list[str]:
    """Las líneas de las salidas de texto del cuaderno ejecutado que son registro interno de TensorFlow."""
    lineas = []
    for celda in json.loads(destino.read_text(encoding="utf-8"))["cells"]:
        for salida in celda.get("outputs", []):
            if salida.get("output_type") == "stream":
                texto = "".join(salida.get("text", ""))
                lineas += [linea[:120] for linea in texto.splitlines() if any(r in linea for r in RUIDO_TF)]
    return lineas


def _comprobaciones_fallan_sin_resolver(destino: Path) -> None:
    """En un cuaderno de ejercicios sin resolver, cada autocomprobación debe fallar con una pista."""
    celdas = json.loads(destino.read_text(encoding="utf-8"))["cells"]
    marcadas = [c for c in celdas if "raises-exception" in c.get("metadata", {}).get("tags", [])]
    assert marcadas, f"{destino.name}: no hay autocomprobaciones (celdas con la etiqueta raises-exception)"
    for celda in marcadas:
        errores = [s for s in celda.get("outputs", []) if s.get("output_type") == "error"]
        assert errores and errores[0]["ename"] == "EjercicioIncompleto", (
            f"{destino.name}: una autocomprobación no falla sin resolver el ejercicio:\n{''.join(celda['source'])[:200]}"
        )
