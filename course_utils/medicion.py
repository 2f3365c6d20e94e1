"""Medidas honestas: tiempo, memoria pico, tamaño en disco y milisegundos por imagen (cuaderno 03)."""

from __future__ import annotations

import re
import resource
import sys
import tempfile
import time
from pathlib import Path


def _vmhwm_mb() -> float | None:
    try:
        texto = Path("/proc/self/status").read_text()
    except OSError:
        return None
    coincidencia = re.search(r"VmHWM:\s+(\d+)\s+kB", texto)
    return int(coincidencia.group(1)) / 1024 if coincidencia else None


def _maxrss_mb() -> float:
    pico = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return pico / 1024 / 1024 if sys.platform == "darwin" else pico / 1024


def reiniciar_pico_memoria() -> bool:
    """Pone a cero el pico de memoria del proceso cuando el sistema lo permite (Linux) (cuaderno 06)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _gpus():
    import tensorflow as tf

    return tf.config.list_logical_devices("GPU")


class MedidorMemoria:
    """Contexto que mide la memoria pico (RAM y, si hay, GPU) de un bloque de código (cuaderno 06)."""

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
    """Contexto que mide segundos de reloj: `with Cronometro() as c: ...; c.segundos` (cuaderno 03)."""

    def __enter__(self):
        self.inicio = time.perf_counter()
        self.segundos = 0.0
        return self

    def __exit__(self, *exc):
        self.segundos = time.perf_counter() - self.inicio
        return False


def tamano_en_disco_mb(modelo) -> float:
    """Guarda el modelo como `.keras` en un temporal y devuelve su tamaño en MB (cuaderno 03)."""
    with tempfile.TemporaryDirectory() as tmp:
        ruta = Path(tmp) / "modelo.keras"
        modelo.save(ruta)
        return ruta.stat().st_size / 2**20


def ms_por_imagen(modelo, tam: int, lote: int = 8, repeticiones: int = 3) -> float:
    """Milisegundos por imagen en inferencia (mediana de varias pasadas tras calentar) (cuaderno 03)."""
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
    """Describe dónde se entrena: GPU si TensorFlow ve una, si no CPU (cuaderno 00)."""
    return "GPU" if _gpus() else "CPU"
