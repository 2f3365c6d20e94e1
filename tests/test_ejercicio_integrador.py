"""Las comprobaciones del ejercicio 4 del cuaderno 04 aceptan la receta correcta y rechazan cada error típico.

Se prueban con una base minúscula hecha a mano (Conv + BatchNorm, con bloques que se llaman como los de
MobileNetV2), sin pesos reales, para que todo tarde segundos.
"""

import keras
import numpy as np
import pytest

from course_utils import ejercicios

TAM = 16
N_CLASES = 3


def base_minima() -> keras.Model:
    """Dos bloques Conv + BatchNorm + ReLU llamados `block_15` y `block_16`, como los dos últimos de MobileNetV2."""
    entrada = keras.Input((TAM, TAM, 3))
    x = entrada
    for bloque, filtros in ((15, 4), (16, 8)):
        x = keras.layers.Conv2D(filtros, 3, strides=2, padding="same", name=f"block_{bloque}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block_{bloque}_bn")(x)
        x = keras.layers.ReLU(name=f"block_{bloque}_relu")(x)
    return keras.Model(entrada, x, name="base_minima")


def receta(training=False, preprocesar=True, flatten=False, congelar=True):
    """La base y el modelo de extracción de características; cada argumento deshace un paso de la receta."""
    base = base_minima()
    base.trainable = not congelar
    entradas = keras.Input((TAM, TAM, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(entradas) if preprocesar else entradas
    x = base(x) if training is None else base(x, training=training)
    x = keras.layers.Flatten()(x) if flatten else keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    return base, keras.Model(entradas, keras.layers.Dense(N_CLASES, activation="softmax")(x))


def ajustar(modelo, tasa):
    """Compila con Adam y la tasa dada y entrena una época sobre cuatro imágenes al azar."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 255, (4, TAM, TAM, 3)).astype("float32"), np.arange(4) % N_CLASES
    modelo.compile(optimizer=keras.optimizers.Adam(tasa), loss="sparse_categorical_crossentropy")
    modelo.fit(x, y, epochs=1, verbose=0)


def descongelar(base, punto="block_16", congelar_bn=True):
    """Descongela la base desde la primera capa de `punto`; con `congelar_bn`, las BatchNorm siguen congeladas."""
    base.trainable = True
    corte = next(i for i, c in enumerate(base.layers) if c.name.startswith(punto + "_"))
    for i, capa in enumerate(base.layers):
        es_bn = isinstance(capa, keras.layers.BatchNormalization)
        capa.trainable = i >= corte and not (congelar_bn and es_bn)


@pytest.fixture
def fase1():
    """La receta correcta tras su primera fase: solo la cabeza, entrenada con Adam(1e-3)."""
    base, modelo = receta()
    ajustar(modelo, 1e-3)
    return base, modelo


def test_la_receta_correcta_pasa_las_dos_fases(fase1, capsys):
    base, modelo = fase1
    canales = base.outputs[0].shape[-1]
    assert ejercicios.comprobar_cabeza_entrenable(modelo, base, N_CLASES) == canales * N_CLASES + N_CLASES
    ejercicios.comprobar_llamada_a_la_base(modelo, base)
    descongelar(base)
    ajustar(modelo, 1e-5)
    entrenables = ejercicios.comprobar_ajuste_fino(modelo, base)
    assert entrenables == sum(int(np.prod(w.shape)) for w in modelo.trainable_weights)
    assert capsys.readouterr().out.count("✔") == 3  # un solo mensaje de éxito por comprobación


def test_el_ajuste_fino_pasa_tambien_antes_del_fit(fase1):
    base, modelo = fase1
    descongelar(base)
    modelo.compile(optimizer=keras.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy")
    ejercicios.comprobar_ajuste_fino(modelo, base)


def test_la_rescaling_equivalente_tambien_vale():
    base = base_minima()
    base.trainable = False
    entradas = keras.Input((TAM, TAM, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(entradas)
    x = keras.layers.GlobalAveragePooling2D()(base(x, training=False))
    ejercicios.comprobar_llamada_a_la_base(keras.Model(entradas, keras.layers.Dense(N_CLASES)(x)), base)


@pytest.mark.parametrize("comprobacion", ["cabeza", "llamada", "ajuste"])
def test_sin_resolver_fallan_con_una_pista(comprobacion):
    funciones = {
        "cabeza": lambda: ejercicios.comprobar_cabeza_entrenable(None, None, N_CLASES),
        "llamada": lambda: ejercicios.comprobar_llamada_a_la_base(None, None),
        "ajuste": lambda: ejercicios.comprobar_ajuste_fino(None, None),
    }
    with pytest.raises(ejercicios.EjercicioIncompleto, match="Pista"):
        funciones[comprobacion]()


def test_fase1_con_la_base_entrenable_falla():
    base, modelo = receta(congelar=False)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="base.trainable = False"):
        ejercicios.comprobar_cabeza_entrenable(modelo, base, N_CLASES)


def test_fase1_con_flatten_falla():
    base, modelo = receta(flatten=True)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="Flatten"):
        ejercicios.comprobar_cabeza_entrenable(modelo, base, N_CLASES)


def test_fase1_con_otro_numero_de_clases_falla():
    base, modelo = receta()
    with pytest.raises(ejercicios.EjercicioIncompleto, match="n_clases"):
        ejercicios.comprobar_cabeza_entrenable(modelo, base, N_CLASES + 1)


@pytest.mark.parametrize("training", [None, True])
def test_sin_training_false_falla(training):
    base, modelo = receta(training=training)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="training=False"):
        ejercicios.comprobar_llamada_a_la_base(modelo, base)


def test_sin_preprocesado_dentro_del_modelo_falla():
    base, modelo = receta(preprocesar=False)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="preprocess_input"):
        ejercicios.comprobar_llamada_a_la_base(modelo, base)


@pytest.mark.parametrize(
    ("como_descongelar", "tasa", "pista"),
    [
        ({}, 1e-3, "tasa de aprendizaje"),
        ({"congelar_bn": False}, 1e-5, "BatchNormalization"),
        ({"punto": "block_15"}, 1e-5, "solo se descongela desde block_16"),
    ],
    ids=["tasa_alta", "batchnorm_descongelada", "toda_la_base"],
)
def test_fase2_mal_hecha_falla(fase1, como_descongelar, tasa, pista):
    base, modelo = fase1
    descongelar(base, **como_descongelar)
    ajustar(modelo, tasa)
    with pytest.raises(ejercicios.EjercicioIncompleto, match=pista):
        ejercicios.comprobar_ajuste_fino(modelo, base)


def test_fase2_sin_descongelar_falla(fase1):
    base, modelo = fase1
    ajustar(modelo, 1e-5)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="base.trainable = True"):
        ejercicios.comprobar_ajuste_fino(modelo, base)


def test_fase2_sin_recompilar_falla(fase1):
    base, modelo = fase1
    modelo.optimizer.learning_rate.assign(1e-5)  # baja la tasa, pero el optimizador sigue siendo el de la fase 1
    descongelar(base)
    modelo.fit(np.zeros((4, TAM, TAM, 3), "float32"), np.arange(4) % N_CLASES, epochs=1, verbose=0)
    with pytest.raises(ejercicios.EjercicioIncompleto, match="compile DESPUÉS"):
        ejercicios.comprobar_ajuste_fino(modelo, base)


def test_una_base_sin_el_bloque_pedido_es_un_error_de_programacion(fase1):
    base, modelo = fase1
    descongelar(base)
    ajustar(modelo, 1e-5)
    with pytest.raises(ValueError, match="block_99"):
        ejercicios.comprobar_ajuste_fino(modelo, base, punto="block_99")
