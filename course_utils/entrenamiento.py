"""Una sola función de entrenar y evaluar para todas las estrategias, con registro de resultados."""

from __future__ import annotations

import dataclasses
import datetime as dt
import platform

import keras
import numpy as np

from course_utils import medicion, registros, terminal
from course_utils.config import Config
from course_utils.datos import Conjunto

terminal.callar_avisos_de_tensorflow()  # un `predict` por modelo nuevo no es ruido que enseñar


@dataclasses.dataclass
class Historial:
    """Curvas de una o varias fases de entrenamiento, con su tiempo y sus fronteras."""

    metricas: dict[str, list[float]]
    segundos: float
    memoria_pico_mb: float | None = None
    memoria_gpu_pico_mb: float | None = None
    fronteras: list[int] = dataclasses.field(default_factory=list)

    @property
    def epocas(self) -> int:
        """Número total de épocas entrenadas."""
        return len(self.metricas.get("loss", []))

    def unir(self, siguiente: Historial) -> Historial:
        """Encadena otra fase y marca la frontera entre ambas."""
        claves = set(self.metricas) | set(siguiente.metricas)
        metricas = {k: self.metricas.get(k, []) + siguiente.metricas.get(k, []) for k in claves}
        picos = [m for m in (self.memoria_pico_mb, siguiente.memoria_pico_mb) if m is not None]
        gpu = [m for m in (self.memoria_gpu_pico_mb, siguiente.memoria_gpu_pico_mb) if m is not None]
        fronteras = self.fronteras + [self.epocas] + [f + self.epocas for f in siguiente.fronteras]
        return Historial(
            metricas, self.segundos + siguiente.segundos, max(picos, default=None), max(gpu, default=None), fronteras
        )


@dataclasses.dataclass
class Resultado:
    """Lo que devuelve `entrenar_y_evaluar`: el registro guardado, el historial y el modelo."""

    registro: dict
    historial: Historial
    modelo: keras.Model


def preparar_datasets(conjunto: Conjunto, config: Config, tam: int, preprocesado=None, aumento=None):
    """Los tres `tf.data` de un conjunto con el lote y la semilla de la configuración."""
    return conjunto.datasets(tam, config.lote, preprocesado=preprocesado, aumento=aumento, semilla=config.semilla)


def entrenar(modelo, ds_entrenamiento, ds_validacion, epocas: int, paciencia: int = 3, verbose: int = 2) -> Historial:
    """Entrena con parada temprana y restaura los mejores pesos; no toca la prueba."""
    parada = keras.callbacks.EarlyStopping(monitor="val_loss", patience=paciencia, restore_best_weights=True)
    with medicion.MedidorMemoria() as memoria, medicion.Cronometro() as reloj:
        historia = modelo.fit(
            ds_entrenamiento,
            validation_data=ds_validacion,
            epochs=epocas,
            callbacks=[parada],
            verbose=verbose,
            shuffle=False,  # el tf.data ya baraja
        )
    metricas = {k: [float(v) for v in vals] for k, vals in historia.history.items()}
    return Historial(metricas, reloj.segundos, memoria.ram_mb, memoria.gpu_mb)


def _parametros(modelo) -> tuple[int, int]:
    entrenables = sum(int(np.prod(w.shape)) for w in modelo.trainable_weights)
    return entrenables, int(modelo.count_params())


def evaluar_prueba(modelo, ds) -> dict:
    """Una sola pasada por la prueba: exactitud, pérdida, ms por imagen y el acierto de cada imagen.

    Los aciertos («1»/«0» en el orden fijo de la prueba) permiten comparar dos modelos con una prueba
    pareada (McNemar) sobre las mismas imágenes.
    """
    y = np.concatenate([np.asarray(etiquetas) for _, etiquetas in ds]).astype(int)
    with medicion.Cronometro() as reloj:
        probs = np.asarray(modelo.predict(ds, verbose=0), dtype=np.float64)
    aciertos = probs.argmax(axis=1) == y
    perdida = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))
    return {
        "accuracy": float(aciertos.mean()) if len(y) else float("nan"),
        "loss": float(perdida.mean()) if len(y) else float("nan"),
        "ms_por_imagen": 1000 * reloj.segundos / max(len(y), 1),
        "n": len(y),
        "aciertos": "".join("1" if a else "0" for a in aciertos),
    }


def entrenar_y_evaluar(
    modelo: keras.Model,
    conjunto: Conjunto,
    config: Config,
    *,
    arquitectura: str,
    estrategia: str,
    tam: int,
    preprocesado=None,
    aumento=None,
    pesos: str = "aleatorios",
    epocas: int | None = None,
    paciencia: int = 3,
    fase_previa: Historial | None = None,
    datasets=None,
    etiqueta: str = "",
    registrar: bool = True,
    anotaciones: dict | None = None,
    segundos_previos: float = 0.0,
    entrenado: Historial | None = None,
    verbose: int = 2,
) -> Resultado:
    """Entrena, restaura los mejores pesos, evalúa la prueba una sola vez y registra el resultado.

    Todas las estrategias pasan por aquí: mismas particiones, mismo presupuesto de épocas y
    mismos callbacks. `fase_previa` suma la fase 1 del ajuste fino al tiempo y a las curvas;
    `segundos_previos`, un coste pagado antes de entrenar (la extracción de la caché).
    Es la única capa que escribe `registros.jsonl`; `anotaciones` añade campos al registro
    (la rejilla anota su presupuesto de épocas para reanudar). Con `entrenado`, el modelo ya se entrenó
    (varias candidatas comparadas en validación): solo se evalúa y se registra. `verbose` es el de `fit`
    (0: sin una línea por época).
    """
    ds_tr, ds_val, ds_te = datasets or preparar_datasets(conjunto, config, tam, preprocesado, aumento)
    historial = entrenado or entrenar(modelo, ds_tr, ds_val, epocas or config.epocas, paciencia, verbose)
    historial.segundos += segundos_previos
    if fase_previa is not None:
        historial = fase_previa.unir(historial)
    val = modelo.evaluate(ds_val, verbose=0, return_dict=True)
    prueba = evaluar_prueba(modelo, ds_te)  # la única vez que se mira la prueba
    entrenables, totales = _parametros(modelo)
    registro = {
        "ejecucion": registros.ID_EJECUCION,
        "fecha": dt.datetime.now().isoformat(timespec="seconds"),
        "arquitectura": arquitectura,
        "estrategia": estrategia,
        "etiqueta": etiqueta,
        "modo": config.modo,
        "pesos": pesos,
        "datos": conjunto.origen,
        "tam_imagen": tam,
        "imagenes_por_clase": config.imagenes_por_clase,
        "imagenes_entrenamiento": len(conjunto.particiones["entrenamiento"]),
        "imagenes_prueba": prueba["n"],
        "clases": len(conjunto.clases),
        "semilla": config.semilla,
        "epocas": historial.epocas,
        "segundos_total": round(historial.segundos, 3),
        "segundos_por_epoca": round(historial.segundos / max(historial.epocas, 1), 3),
        "val_accuracy": float(val["accuracy"]),
        "val_loss": float(val["loss"]),
        "test_accuracy": prueba["accuracy"],
        "test_loss": prueba["loss"],
        "aciertos_prueba": prueba["aciertos"],
        "parametros_entrenables": entrenables,
        "parametros_totales": totales,
        "mb_modelo": round(medicion.tamano_en_disco_mb(modelo), 2),
        "ms_por_imagen": round(prueba["ms_por_imagen"], 3),
        "memoria_pico_mb": historial.memoria_pico_mb and round(historial.memoria_pico_mb, 1),
        "memoria_gpu_pico_mb": historial.memoria_gpu_pico_mb and round(historial.memoria_gpu_pico_mb, 1),
        "dispositivo": medicion.dispositivo(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        **(anotaciones or {}),
    }
    if registrar:
        registros.anadir(registro, config.resultados_dir)
    return Resultado(registro, historial, modelo)


def compilar(modelo: keras.Model, tasa: float = 1e-3, jit_compile="auto") -> keras.Model:
    """Compila con Adam, entropía cruzada dispersa y exactitud.

    `jit_compile` (XLA): "auto" lo decide Keras; las recetas pasan el de `dispositivo.preparar` (sí con una GPU).
    """
    modelo.compile(
        optimizer=keras.optimizers.Adam(tasa),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return modelo
