"""Las tres estrategias del curso: CNN desde cero, extracción de características y ajuste fino.

Aquí viven los constructores de los modelos, las tasas de aprendizaje y las funciones que
entrenan cada receta. Los cuadernos 02, 04 y 05 las enseñan paso a paso; la rejilla de la
comparativa (`rejilla`), la orden `entrenar`, el cuaderno 08, la exportación y los
benchmarks las reutilizan desde aquí para que todos midan exactamente lo mismo.
"""

from __future__ import annotations

import keras

from course_utils import arquitecturas, datos, entrenamiento
from course_utils import config as cfg

ESTRATEGIAS = ("desde_cero", "extraccion", "fine_tuning")
NOMBRES_ESTRATEGIA = {
    "desde_cero": "desde cero",
    "extraccion": "extracción",
    "extraccion_rapida": "extracción rápida (caché)",
    "fine_tuning": "ajuste fino",
}
ARQ_DESDE_CERO = "cnn_desde_cero"
TAM_DESDE_CERO = 160  # el del cuaderno 02 cuando el modo no fija tamaño (completo)
TASA_CABEZA = 1e-3
TASA_AJUSTE_FINO = 1e-5


def titulo_red(nombre: str) -> str:
    """Nombre legible de una red, o «CNN desde cero»."""
    if nombre == ARQ_DESDE_CERO:
        return "CNN desde cero"
    return arquitecturas.REGISTRO[nombre].titulo if nombre in arquitecturas.REGISTRO else nombre


def origen_pesos(registro: dict) -> str:
    """Texto del origen de los pesos; los aleatorios en una red preentrenable van marcados."""
    if registro.get("estrategia") == "desde_cero":
        return "aleatorios (desde cero)"
    return {"local": "ImageNet (archivo local)", "imagenet": "ImageNet (descarga)"}.get(
        registro.get("pesos"), "⚠ ALEATORIOS: no es transferencia"
    )


def validar_estrategias(estrategias) -> list[str]:
    """Las estrategias pedidas, o un error en español que lista las válidas."""
    for e in estrategias:
        if e not in ESTRATEGIAS:
            raise ValueError(f"Estrategia desconocida: {e!r}. Las válidas son: {', '.join(ESTRATEGIAS)}.")
    return list(estrategias)


# --- Los tres modelos ----------------------------------------------------------------------------


def escalar(x):
    """Preprocesado de la CNN desde cero: píxeles de 0-255 a 0-1."""
    return x / 255.0


def construir_desde_cero(n_clases: int, tam: int, dropout: float = 0.5) -> keras.Model:
    """CNN compacta: cuatro bloques conv + pooling (32, 64, 128 y 128 filtros), GAP, dropout y softmax."""
    entrada = keras.Input((tam, tam, 3))
    x = entrada
    for filtros in (32, 64, 128, 128):
        x = keras.layers.Conv2D(filtros, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax")(x)
    return keras.Model(entrada, salida, name="cnn_desde_cero")


def construir_extraccion(base: keras.Model, n_clases: int, tam: int, dropout: float = 0.2) -> keras.Model:
    """Base congelada llamada con training=False + GAP + Dropout + Dense."""
    base.trainable = False
    entrada = keras.Input((tam, tam, 3))
    # training=False: BatchNorm en inferencia mientras la base está congelada. En Keras 3.15, al descongelar,
    # `fit` lo anula (cuaderno 04); por eso `descongelar_desde` deja además las BatchNorm con trainable=False.
    x = base(entrada, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    salida = keras.layers.Dense(n_clases, activation="softmax")(x)
    return keras.Model(entrada, salida, name=f"extraccion_{base.name}")


# --- Las tres recetas de entrenamiento -----------------------------------------------------------


def entrenar_desde_cero(
    conjunto, config: cfg.Config, tam: int, *, registrar: bool = False, etiqueta: str = "", anotaciones=None
) -> entrenamiento.Resultado:
    """Estrategia 1: la CNN compacta, con aumento de datos y sin pesos previos."""
    cfg.fijar_semillas(config.semilla)
    modelo = entrenamiento.compilar(construir_desde_cero(len(conjunto.clases), tam), TASA_CABEZA)
    return entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, arquitectura=ARQ_DESDE_CERO, estrategia="desde_cero", tam=tam,
        preprocesado=escalar, aumento=datos.bloque_aumento(semilla=config.semilla),
        registrar=registrar, etiqueta=etiqueta, anotaciones=anotaciones,
    )  # fmt: skip


def extraccion_y_ajuste_fino(
    nombre: str,
    conjunto,
    config: cfg.Config,
    tam: int,
    ajuste_fino: bool = True,
    entre_fases=None,
    *,
    registrar=(),
    etiqueta: str = "",
    anotaciones=None,
):
    """Estrategias 2 y 3: extracción (fase 1) y, partiendo de ella, ajuste fino (fase 2) de una red.

    `registrar` dice qué fases se anotan en `registros.jsonl` («extraccion», «fine_tuning»);
    `entre_fases(fase1)` se llama al terminar la fase 1, antes de descongelar.
    """
    arq = arquitecturas.obtener(nombre)
    base, origen = arquitecturas.cargar_base(nombre, "imagenet", tam, config)
    cfg.fijar_semillas(config.semilla)
    modelo = construir_extraccion(base, len(conjunto.clases), tam)  # base congelada, llamada con training=False
    entrenamiento.compilar(modelo, TASA_CABEZA)
    aumento = datos.bloque_aumento(semilla=config.semilla)
    ds = entrenamiento.preparar_datasets(conjunto, config, tam, arq.preprocesado, aumento)  # preprocess_input de la red
    comun = {"arquitectura": nombre, "tam": tam, "pesos": origen, "datasets": ds, "etiqueta": etiqueta}
    comun["anotaciones"] = anotaciones
    fase1 = entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, estrategia="extraccion", registrar="extraccion" in registrar, **comun
    )
    if not ajuste_fino:
        return fase1, None
    if entre_fases:
        entre_fases(fase1)
    arquitecturas.descongelar_desde(base, arq.punto_descongelar)  # desde el último bloque; BatchNorm congelada
    entrenamiento.compilar(
        modelo, TASA_AJUSTE_FINO
    )  # recompilar tras cambiar `trainable`, con una tasa 100 veces menor
    fase2 = entrenamiento.entrenar_y_evaluar(
        modelo, conjunto, config, estrategia="fine_tuning", fase_previa=fase1.historial,
        registrar="fine_tuning" in registrar, **comun,
    )  # fmt: skip
    return fase1, fase2


def tam_de(arquitectura: str, config: cfg.Config) -> int:
    """Tamaño de entrada de una red (o de la CNN desde cero) en la configuración dada."""
    if arquitectura == ARQ_DESDE_CERO:
        return config.tam_para(TAM_DESDE_CERO)
    return config.tam_para(arquitecturas.obtener(arquitectura).tam_defecto)


def entrenar_receta(arquitectura: str, estrategia: str, conjunto, config: cfg.Config, *, etiqueta: str = ""):
    """Entrena una estrategia con las funciones de la comparativa; devuelve (red, tamaño, Resultado).

    Con `etiqueta`, el resultado se anota en `registros.jsonl` (la orden `entrenar` usa «entrenar_cli»).
    """
    registrar = bool(etiqueta)
    if estrategia == "desde_cero":
        tam = tam_de(ARQ_DESDE_CERO, config)
        resultado = entrenar_desde_cero(conjunto, config, tam, registrar=registrar, etiqueta=etiqueta)
        return ARQ_DESDE_CERO, tam, resultado
    nombre = arquitecturas.obtener(arquitectura).nombre
    tam = tam_de(nombre, config)
    fase1, fase2 = extraccion_y_ajuste_fino(
        nombre, conjunto, config, tam, ajuste_fino=estrategia == "fine_tuning",
        registrar=(estrategia,) if registrar else (), etiqueta=etiqueta,
    )  # fmt: skip
    return nombre, tam, fase2 or fase1
