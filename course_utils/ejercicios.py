"""Autocomprobaciones de los ejercicios con pistas en español (cuadernos de ejercicios)."""

from __future__ import annotations

import math


class EjercicioIncompleto(AssertionError):
    """La comprobación no se cumple: el mensaje es una pista, no la solución (ejercicios)."""


def comprobar(condicion: bool, pista: str, exito: str = "¡Correcto!") -> None:
    """Lanza `EjercicioIncompleto` con una pista si la condición falla; si no, felicita (ejercicios)."""
    _exigir(condicion, pista)
    print(f"✔ {exito}")


def _exigir(condicion: bool, pista: str) -> None:
    """Como `comprobar`, pero sin felicitar: para los pasos intermedios de una comprobación larga."""
    if not condicion:
        raise EjercicioIncompleto(f"Todavía no. Pista: {pista}")


def pendiente(valor) -> bool:
    """Indica si el alumno aún no ha rellenado un hueco marcado con `...` o `None` (ejercicios)."""
    return valor is Ellipsis or valor is None


# --- Ejercicio 4 del cuaderno 04: la receta entera con una base real ---------------------------


def _es_modelo(modelo, base) -> bool:
    """Indica si hay un modelo de Keras que contiene a la base como una de sus capas."""
    import keras

    return isinstance(modelo, keras.Model) and isinstance(base, keras.Model) and base in modelo.layers


def _parametros(variables) -> int:
    """Suma el número de valores de una lista de variables."""
    return sum(math.prod(v.shape) for v in variables)


def comprobar_cabeza_entrenable(modelo, base, n_clases: int) -> int:
    """Fase 1: base congelada y solo la cabeza GAP → Dense(n_clases, softmax) entrenable (ejercicios 04).

    El número esperado sale de la forma de salida de la base, no de una cifra escrita a mano: tras
    `GlobalAveragePooling2D` quedan `canales` valores y la capa de salida tiene canales·n_clases pesos más
    n_clases sesgos. Devuelve los parámetros entrenables del modelo.
    """
    import keras

    _exigir(
        _es_modelo(modelo, base),
        "crear_base y crear_modelo_receta deben devolver la base y un keras.Model "
        "que la llame (x = base(x, training=False)); ¿falta algún return?",
    )
    _exigir(base.trainable is False, "congela la base con base.trainable = False antes de compilar.")
    salida = modelo.layers[-1]
    _exigir(
        modelo.outputs[0].shape[-1] == n_clases and getattr(salida, "activation", None) is keras.activations.softmax,
        'la última capa es Dense(n_clases, activation="softmax").',
    )
    canales = base.outputs[0].shape[-1]
    entrenables = _parametros(modelo.trainable_weights)
    comprobar(
        entrenables == canales * n_clases + n_clases,
        "solo debe entrenarse la capa de salida, justo después "
        "de GlobalAveragePooling2D (¿hay un Flatten o una Dense oculta?).",
        "Solo entrena la cabeza.",
    )
    return entrenables


def comprobar_llamada_a_la_base(modelo, base) -> None:
    """El modelo preprocesa dentro y llama a la base con `training=False` (ejercicios 04).

    `training=False` se lee en el grafo del modelo (su `get_config`), porque en Keras 3 no cambia lo que
    hace `fit`: el modelo propaga su propio `training` a la base. Por eso se mira la llamada escrita.
    """
    _exigir(_es_modelo(modelo, base), "crea primero el modelo, que debe llamar a la base.")
    tipos = {type(op).__name__ for op in modelo.operations}
    _exigir(
        {"TrueDivide", "Subtract"} <= tipos or "Rescaling" in tipos,
        "preprocesa dentro del modelo: x = keras.applications.mobilenet_v2.preprocess_input(x) antes de la base.",
    )
    capas = modelo.get_config()["layers"]
    nodos = next(c for c in capas if c["name"] == base.name)["inbound_nodes"]
    comprobar(
        all(n["kwargs"].get("training") is False for n in nodos),
        "llama a la base con base(x, training=False), para que su BatchNorm trabaje en modo inferencia.",
        "La base se llama con training=False.",
    )


def comprobar_ajuste_fino(modelo, base, punto: str = "block_16", tasa_maxima: float = 1e-4) -> int:
    """Fase 2: tasa baja, base entrenable solo desde `punto`, BatchNorm congeladas y recompilado (ejercicios 04).

    Que se recompiló se ve en el optimizador: una vez construido (en el primer `fit` tras `compile`) solo
    actualiza las variables que eran entrenables entonces. Devuelve los parámetros entrenables del modelo.
    """
    import keras

    _exigir(_es_modelo(modelo, base), "crea primero el modelo, que debe llamar a la base.")
    optimizador = getattr(modelo, "optimizer", None)
    _exigir(optimizador is not None, "compila el modelo después de descongelar la base.")
    tasa = float(keras.ops.convert_to_numpy(optimizador.learning_rate))
    _exigir(
        tasa <= tasa_maxima * (1 + 1e-6),
        "recompila con una tasa de aprendizaje muy baja, como "
        "keras.optimizers.Adam(1e-5): una tasa alta estropea los pesos preentrenados.",
    )
    nombres = [capa.name for capa in base.layers]
    corte = next((i for i, n in enumerate(nombres) if n.startswith(punto + "_")), None)
    if corte is None:
        raise ValueError(f"La base {base.name} no tiene ningún bloque «{punto}».")
    _exigir(base.trainable is True, f"descongela la base (base.trainable = True) y congela lo anterior a {punto}.")
    _exigir(
        not any(c.trainable_weights for c in base.layers[:corte]),
        f"solo se descongela desde {punto}: pon trainable = False en las capas anteriores a la primera «{punto}_…».",
    )
    _exigir(any(c.trainable_weights for c in base.layers[corte:]), f"descongela las capas de {punto} en adelante.")
    normas = [c for c in base.layers if isinstance(c, keras.layers.BatchNormalization)]
    _exigir(
        not any(c.trainable for c in normas),
        "deja TODAS las BatchNormalization de la base con trainable = False: al descongelar, en Keras 3 "
        "training=False no basta.",
    )
    conocidas = {id(v) for v in getattr(optimizador, "_trainable_variables", [])}
    comprobar(
        not optimizador.built or conocidas == {id(v) for v in modelo.trainable_variables},
        "el optimizador no conoce lo que acabas de descongelar: llama a compile DESPUÉS de cambiar trainable.",
        f"Ajuste fino desde {punto}: tasa baja, BatchNorm congeladas y recompilado.",
    )
    return _parametros(modelo.trainable_weights)
