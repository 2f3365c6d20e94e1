"""Modos de ejecución, rutas y semillas del curso."""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import numpy as np

RAIZ_PROYECTO = Path(__file__).resolve().parents[1]
SEMILLA_DEFECTO = 42


@dataclasses.dataclass(frozen=True)
class Modo:
    """Presupuesto de un modo: imágenes, tamaño, épocas y lote.

    Lo barato usa más datos que lo caro: la cabeza sobre características en caché entrena con
    `imagenes_cache_por_clase` (None = todas) hasta converger (tope `epocas_cabeza`, cada época cuesta
    milisegundos); lo que pasa imágenes por la base en cada época (extremo a extremo, ajuste fino,
    CNN desde cero) usa `imagenes_por_clase` y `epocas` (por fase), con parada temprana. La validación
    (una pasada en cada época) se limita a `imagenes_val_por_clase`; la prueba se evalúa una sola vez por
    modelo, así que en clase usa todas sus imágenes (`imagenes_prueba_por_clase` = None).
    """

    nombre: str
    descripcion: str
    imagenes_por_clase: int | None
    imagenes_val_por_clase: int | None
    imagenes_prueba_por_clase: int | None
    tam_imagen: int | None
    epocas: int
    lote: int
    imagenes_cache_por_clase: int | None
    epocas_cabeza: int
    epocas_desde_cero: int


MODOS = {
    "rapido": Modo(
        "rapido",
        "CI y comprobaciones: pocas imágenes, tamaño pequeño, 1-2 épocas. Los resultados son solo orientativos.",
        imagenes_por_clase=12,
        imagenes_val_por_clase=5,
        imagenes_prueba_por_clase=5,
        tam_imagen=96,
        epocas=2,
        lote=16,
        imagenes_cache_por_clase=12,
        epocas_cabeza=30,
        epocas_desde_cero=2,
    ),
    "clase": Modo(
        "clase",
        "Demostraciones en directo en la CPU de un portátil: cada cuaderno en unos 10 minutos como mucho.",
        imagenes_por_clase=100,
        imagenes_val_por_clase=30,
        imagenes_prueba_por_clase=None,
        tam_imagen=160,
        epocas=5,
        lote=32,
        imagenes_cache_por_clase=None,
        epocas_cabeza=300,
        epocas_desde_cero=40,
    ),
    "completo": Modo(
        "completo",
        "Todo el conjunto de datos al tamaño nativo de cada red; se recomienda GPU.",
        imagenes_por_clase=None,
        imagenes_val_por_clase=None,
        imagenes_prueba_por_clase=None,
        tam_imagen=None,
        epocas=20,
        lote=32,
        imagenes_cache_por_clase=None,
        epocas_cabeza=300,
        epocas_desde_cero=60,
    ),
}
MODO_DEFECTO = "clase"
DEL_MODO = "modo"  # valor de `imagenes_por_clase` que significa «lo que marque el modo»


@dataclasses.dataclass(frozen=True)
class Config:
    """Ajustes efectivos de una ejecución: modo, presupuesto y rutas."""

    modo: str
    imagenes_por_clase: int | None
    imagenes_val_por_clase: int | None
    imagenes_prueba_por_clase: int | None
    tam_imagen: int | None
    epocas: int
    lote: int
    imagenes_cache_por_clase: int | None
    epocas_cabeza: int
    epocas_desde_cero: int
    semilla: int
    datos_dir: Path
    pesos_dir: Path | None
    resultados_dir: Path

    @property
    def rapido(self) -> bool:
        """Indica si los resultados son solo orientativos."""
        return self.modo == "rapido"

    def tam_para(self, tam_defecto: int) -> int:
        """Devuelve el tamaño de imagen del modo o el nativo de la red."""
        return self.tam_imagen or tam_defecto


class ModoDesconocido(ValueError):
    """El modo pedido (argumento, `--modo` o CURSO_MODO) no existe; el mensaje lista los válidos."""


def resolver_modo(modo: str | None = None) -> str:
    """Elige el modo: el argumento, después CURSO_MODO y por último el de portátil."""
    desde_entorno = not (modo and modo.strip())
    original = os.environ.get("CURSO_MODO", "") if desde_entorno else modo
    elegido = (original.strip() or MODO_DEFECTO).lower().replace("á", "a")
    if elegido not in MODOS:
        validos = ", ".join(MODOS)
        donde = (
            "la variable de entorno CURSO_MODO (por ejemplo `export CURSO_MODO=rapido`) o bórrala para usar "
            f"el modo {MODO_DEFECTO}"
            if desde_entorno
            else "la celda `parameters` (MODO) o en la opción --modo"
        )
        raise ModoDesconocido(
            f"Modo desconocido: {original!r}"
            + (" (de la variable de entorno CURSO_MODO)" if desde_entorno else "")
            + f". Los modos válidos son: {validos} («rápido» también vale). Corrígelo en {donde}."
        )
    return elegido


def _ruta_env(variable: str, defecto: Path | None) -> Path | None:
    valor = os.environ.get(variable, "").strip()
    return Path(valor).expanduser() if valor else defecto


def imagenes_pedidas(valor, del_modo: int | None) -> int | None:
    """Imágenes de entrenamiento por clase: «modo» = las del modo; None o «todas» = todas; si no, el número."""
    if valor == DEL_MODO:
        return del_modo
    if valor is None or valor == "todas":
        return None
    if isinstance(valor, bool) or not isinstance(valor, int) or valor < 1:
        raise ValueError(
            f'imagenes_por_clase={valor!r} no es válido: usa un entero positivo, None o "todas" (todas las '
            f'imágenes) o "{DEL_MODO}" (las del modo).'
        )
    return valor


def obtener_config(
    modo: str | None = None,
    *,
    semilla: int = SEMILLA_DEFECTO,
    tam_imagen: int | None = None,
    epocas: int | None = None,
    imagenes_por_clase: int | str | None = DEL_MODO,
    lote: int | None = None,
) -> Config:
    """Construye la configuración a partir del modo y de la celda `parameters`.

    `tam_imagen`, `epocas` y `lote` en None toman el valor del modo. `imagenes_por_clase` distingue:
    «modo» (por defecto) toma el del modo y None (o «todas») pide todas las imágenes de entrenamiento;
    un valor explícito vale también para la caché de características.
    """
    base = MODOS[resolver_modo(modo)]
    n = imagenes_pedidas(imagenes_por_clase, base.imagenes_por_clase)
    return Config(
        modo=base.nombre,
        imagenes_por_clase=n,
        imagenes_val_por_clase=base.imagenes_val_por_clase,
        imagenes_prueba_por_clase=base.imagenes_prueba_por_clase,
        tam_imagen=tam_imagen or base.tam_imagen,
        epocas=epocas or base.epocas,
        lote=lote or base.lote,
        # Pedir un número explícito (la curva de datos) lo aplica también a la caché.
        imagenes_cache_por_clase=base.imagenes_cache_por_clase if imagenes_por_clase == DEL_MODO else n,
        epocas_cabeza=base.epocas_cabeza,
        epocas_desde_cero=epocas or base.epocas_desde_cero,
        semilla=semilla,
        datos_dir=_ruta_env("CURSO_DATOS_DIR", RAIZ_PROYECTO / "data"),
        pesos_dir=_ruta_env("CURSO_PESOS_DIR", None),
        resultados_dir=_ruta_env("CURSO_RESULTADOS_DIR", RAIZ_PROYECTO / "resultados"),
    )


def obtener_config_tus_datos(
    modo: str | None = None,
    *,
    semilla: int = SEMILLA_DEFECTO,
    tam_imagen: int | None = None,
    epocas: int | None = None,
    imagenes_por_clase: int | str | None = None,
) -> Config:
    """La configuración para TUS datos (orden `entrenar` y cuaderno 08): a pleno rendimiento.

    El tope por clase de los modos es para demostrar con las flores, no para tu carpeta: por defecto usa
    todas sus imágenes de entrenamiento, validación y prueba y el tamaño nativo de cada red (`tam_imagen`
    None). El modo rápido, que solo comprueba que todo funciona, conserva su tamaño pequeño.
    """
    config = obtener_config(modo, semilla=semilla, epocas=epocas, imagenes_por_clase=imagenes_por_clase)
    return dataclasses.replace(
        config,
        imagenes_val_por_clase=None,
        imagenes_prueba_por_clase=None,
        tam_imagen=tam_imagen or (config.tam_imagen if config.rapido else None),
    )


def fijar_semillas(semilla: int = SEMILLA_DEFECTO) -> None:
    """Fija las semillas de Python, NumPy, TensorFlow y Keras."""
    import keras

    random.seed(semilla)
    np.random.seed(semilla)
    keras.utils.set_random_seed(semilla)


def describir(config: Config) -> str:
    """Resume en español el modo, de dónde saldrán datos y pesos, y el dispositivo y la estrategia elegidos."""
    from course_utils import dispositivo  # aquí dentro: TensorFlow se importa al describir, no al importar config

    modo = MODOS[config.modo]
    lineas = [
        f"Modo: {config.modo} — {modo.descripcion}",
        f"  Imágenes de entrenamiento por clase: {config.imagenes_por_clase or 'todas'}",
        f"  Validación: {config.imagenes_val_por_clase or 'todas las'} imágenes por clase · prueba: "
        f"{config.imagenes_prueba_por_clase or 'todas las'} imágenes por clase (se evalúa una vez)",
        f"  Tamaño de imagen: {f'{config.tam_imagen} px' if config.tam_imagen else 'el nativo de cada red'}",
        f"  Imágenes por clase para la cabeza en caché: {config.imagenes_cache_por_clase or 'todas'} "
        f"(hasta {config.epocas_cabeza} épocas, con parada temprana)",
        f"  Épocas por fase de extremo a extremo: {config.epocas} · CNN desde cero: hasta {config.epocas_desde_cero} "
        f"· lote: {config.lote} · semilla: {config.semilla}",
        f"  Carpeta de datos (CURSO_DATOS_DIR): {config.datos_dir}",
        f"  Carpeta de pesos (CURSO_PESOS_DIR): {config.pesos_dir or 'no definida (caché de Keras y descarga)'}",
        f"  Carpeta de resultados (CURSO_RESULTADOS_DIR): {config.resultados_dir}",
        f"  {dispositivo.anuncio(dispositivo.preparar(config.lote))}",
    ]
    if config.rapido:
        lineas.append(
            "  AVISO: en modo rápido los resultados son solo orientativos; "
            "las conclusiones se sacan en los modos clase o completo."
        )
    return "\n".join(lineas)
