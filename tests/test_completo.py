"""El modo `completo` de extremo a extremo en la CPU, con ajustes reducidos pasados como parámetros de papermill.

Se ejecuta el cuaderno 06 (la comparativa) en modo completo: es el que recorre la ruta de `completo` más
distinta de `rapido` (en completo la rejilla se ejecuta si no hay informe, se evalúa con TODAS las imágenes
de validación y de prueba y no hay pesos aleatorios de repuesto) y es la misma rejilla que el script de GPU
(`benchmarks/gpu_completo.py`). Para que quepa en menos de un minuto de CI se reducen el tamaño (64 px), las
imágenes de entrenamiento (5 por clase), las épocas (1 por fase), las redes (MobileNetV2) y se quita la curva.

Necesita las fotos de tf_flowers (CURSO_DATOS_DIR) y, para la transferencia, los pesos de MobileNetV2
(CURSO_PESOS_DIR). Sin fotos se omite, salvo con CI=true: entonces falla.
"""

import json
import os
import time
from pathlib import Path

import pytest

from course_utils import arquitecturas, ejecucion, registros
from course_utils import config as cfg

pytestmark = pytest.mark.cuadernos

CUADERNO = ejecucion.CARPETA_CUADERNOS / "06_comparativa.ipynb"
PARAMETROS = {
    "TAM_IMAGEN": 64,
    "IMAGENES_POR_CLASE": 5,
    "EPOCAS": 1,
    "ARQUITECTURAS": ["mobilenet_v2"],
    "CURVA": False,
    "USAR_INFORME_EXISTENTE": False,
}


def _salidas(cuaderno: Path) -> tuple[str, list[str]]:
    """El texto que imprimió el cuaderno y los errores de sus celdas."""
    texto, errores = [], []
    for celda in json.loads(cuaderno.read_text(encoding="utf-8"))["cells"]:
        for salida in celda.get("outputs", []):
            if salida.get("output_type") == "stream":
                texto.append("".join(salida["text"]))
            elif salida.get("output_type") == "error":
                errores.append(f"{salida['ename']}: {salida['evalue']}")
    return "".join(texto), errores


def test_completo_reducido_de_extremo_a_extremo_en_cpu(monkeypatch, tmp_path):
    config = cfg.obtener_config("completo")
    if not (config.datos_dir / "flower_photos").is_dir():
        mensaje = f"faltan las fotos de tf_flowers en {config.datos_dir} (CURSO_DATOS_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(mensaje)
        pytest.skip(mensaje)
    resultados = tmp_path / "resultados"
    monkeypatch.setenv("CURSO_MODO", "completo")  # ejecutar_cuaderno lo fija; monkeypatch lo restaura
    monkeypatch.setenv("CURSO_RESULTADOS_DIR", str(resultados))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    inicio = time.perf_counter()
    destino = ejecucion.ejecutar_cuaderno(CUADERNO, "completo", tmp_path / "build", parametros=PARAMETROS)
    print(f"06_comparativa en modo completo reducido: {time.perf_counter() - inicio:.1f} s")

    texto, errores = _salidas(destino)
    assert errores == [], errores
    assert "Modo: completo" in texto
    assert "Dispositivo: " in texto and "estrategia: " in texto  # el anuncio de config.describir
    assert "Rejilla en modo completo: 4 celdas" in texto

    hechos = registros.leer(resultados, modo="completo")
    assert sorted(r["estrategia"] for r in hechos) == sorted(
        ["desde_cero", "extraccion", "extraccion_continuada", "fine_tuning"]
    )
    for r in hechos:
        assert r["tam_imagen"] == 64 and r["imagenes_por_clase"] == 5 and r["datos"] == "flores"
        # completo evalúa con todas las imágenes de prueba (rápido: 5 por clase, 25 en total)
        assert r["imagenes_prueba"] > 400, r["imagenes_prueba"]
    if config.pesos_dir and (config.pesos_dir / arquitecturas.obtener("mobilenet_v2").archivo_pesos).is_file():
        assert {r["pesos"] for r in hechos if r["arquitectura"] == "mobilenet_v2"} == {"local"}
    assert (resultados / "informe_completo.md").is_file()
