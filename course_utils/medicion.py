"""Medidas honestas: tiempo, memoria pico, tamaño en disco y milisegundos por imagen."""

from __future__ import annotations

import os
import platform
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _estado_mb(campo: str) -> float | None:
    """Un campo de memoria de /proc/self/status (VmHWM, VmRSS…) en MB, o None fuera de Linux."""
    try:
        texto = Path("/proc/self/status").read_text()
    except OSError:
        return None
    coincidencia = re.search(rf"{campo}:\s+(\d+)\s+kB", texto)
    return int(coincidencia.group(1)) / 1024 if coincidencia else None


def _vmhwm_mb() -> float | None:
    return _estado_mb("VmHWM")


def _maxrss_mb() -> float:
    pico = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return pico / 1024 / 1024 if sys.platform == "darwin" else pico / 1024


def reiniciar_pico_memoria() -> bool:
    """Pone a cero el pico de memoria del proceso cuando el sistema lo permite (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _gpus():
    import tensorflow as tf

    return tf.config.list_logical_devices("GPU")


class MedidorMemoria:
    """Contexto que mide la memoria pico (RAM y, si hay, GPU) de un bloque de código."""

    def __enter__(self):
        import tensorflow as tf

        self.reiniciado = reiniciar_pico_memoria()
        self.gpu = bool(_gpus())
        if self.gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")
        self.ram_mb = self.gpu_mb = None
        return self

    def __exit__(self, *exc):
        import tensorflow as tf

        self.ram_mb = (_vmhwm_mb() if self.reiniciado else None) or _maxrss_mb()
        if self.gpu:
            self.gpu_mb = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        return False


class Cronometro:
    """Contexto que mide segundos de reloj: `with Cronometro() as c: ...; c.segundos`."""

    def __enter__(self):
        self.inicio = time.perf_counter()
        self.segundos = 0.0
        return self

    def __exit__(self, *exc):
        self.segundos = time.perf_counter() - self.inicio
        return False


def tamano_en_disco_mb(modelo) -> float:
    """Guarda el modelo como `.keras` en un temporal y devuelve su tamaño en MB."""
    with tempfile.TemporaryDirectory() as tmp:
        ruta = Path(tmp) / "modelo.keras"
        modelo.save(ruta)
        return ruta.stat().st_size / 2**20


def ms_por_imagen(modelo, tam: int, lote: int = 8, repeticiones: int = 3) -> float:
    """Milisegundos por imagen en inferencia (mediana de varias pasadas tras calentar)."""
    import numpy as np

    x = np.random.default_rng(0).uniform(0, 255, (lote, tam, tam, 3)).astype("float32")
    modelo.predict_on_batch(x)
    tiempos = []
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        modelo.predict_on_batch(x)
        tiempos.append(time.perf_counter() - inicio)
    return 1000 * float(np.median(tiempos)) / lote


def dispositivo() -> str:
    """Describe dónde se entrena: GPU si TensorFlow ve una, si no CPU."""
    return "GPU" if _gpus() else "CPU"


# --- Medidas para benchmarks/medir.py --------------------------------------------------------


def memoria_actual_mb() -> float | None:
    """Memoria residente (RSS) del proceso en este momento, en MB, si el sistema la expone (benchmarks)."""
    return _estado_mb("VmRSS")


def mediana_segundos(funcion, repeticiones: int = 3, calentamiento: int = 1) -> float:
    """Mediana de los segundos de `funcion()` tras `calentamiento` llamadas sin medir (benchmarks)."""
    if repeticiones < 1 or calentamiento < 0:
        raise ValueError(
            f"Se pidieron {repeticiones} repeticiones y {calentamiento} de calentamiento: hace falta al menos "
            "una repetición y ningún calentamiento negativo (opción --repeticiones de benchmarks/medir.py)."
        )
    for _ in range(calentamiento):
        funcion()
    tiempos = []
    for _ in range(repeticiones):
        inicio = time.perf_counter()
        funcion()
        tiempos.append(time.perf_counter() - inicio)
    return statistics.median(tiempos)


def segundos_por_epoca(modelo, x, y=None, epocas: int = 2, lote: int | None = None) -> list[float]:
    """Entrena `epocas` épocas sin mostrar nada y devuelve los segundos de cada una (benchmarks)."""
    import keras

    tiempos: list[float] = []

    class _Reloj(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.inicio = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            tiempos.append(time.perf_counter() - self.inicio)

    # Con un `tf.data` (y=None) el propio conjunto ya baraja; con arrays baraja `fit`.
    modelo.fit(x, y, epochs=epocas, batch_size=lote, verbose=0, callbacks=[_Reloj()], shuffle=y is not None)
    return tiempos


def _modelo_cpu() -> str:
    try:
        texto = Path("/proc/cpuinfo").read_text()
    except OSError:
        texto = ""
    coincidencia = re.search(r"model name\s*:\s*(.+)", texto)
    return coincidencia.group(1).strip() if coincidencia else (platform.processor() or platform.machine())


def describir_maquina() -> dict:
    """CPU, núcleos, sistema, dispositivo y versiones de Python, TensorFlow y Keras (benchmarks)."""
    import keras
    import tensorflow as tf

    gpus = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in _gpus_fisicas()]
    return {
        "cpu": _modelo_cpu(),
        "nucleos": os.cpu_count(),
        "sistema": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "dispositivo": "GPU" if gpus else "CPU",
        "gpu": ", ".join(gpus) or None,
    }


def _gpus_fisicas():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


# --- Medidas de las arquitecturas -----------------------------------------------


def profundidad(modelo) -> int:
    """Cuenta las capas con pesos que transforman la entrada: convoluciones y densas, sin BatchNorm."""
    import keras

    tipos = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D, keras.layers.Dense)
    total = 0
    for capa in modelo.layers:
        if isinstance(capa, keras.Model):
            total += profundidad(capa)
        elif isinstance(capa, tipos):
            total += 1
    return total
