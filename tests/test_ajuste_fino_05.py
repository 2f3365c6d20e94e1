"""Lo que el cuaderno 05 afirma en prosa sobre `layers[-4:]`, los bloques y la escala de Adam, comprobado aparte.

Si una versión nueva de Keras cambia los nombres o el orden de las capas de VGG16 o ResNet50, estas pruebas
avisan de que la conclusión de la sección «Las últimas 4 capas del artículo» ya no vale tal cual.
"""

import keras
import numpy as np
import pytest

from course_utils import arquitecturas


def _como_el_articulo(red, n=4):
    """La receta del segundo artículo: congela capa a capa y descongela las n últimas."""
    for capa in red.layers:
        capa.trainable = False
    for capa in red.layers[-n:]:
        capa.trainable = True
    return red.layers[-n:]


def _batchnorm_entrenables(red):
    return sum(c.trainable for c in red.layers if isinstance(c, keras.layers.BatchNormalization))


def test_en_vgg16_las_4_ultimas_son_el_bloque5_entero_y_no_hay_batchnorm(base_aleatoria):
    red = base_aleatoria("vgg16")
    ultimas = _como_el_articulo(red)
    assert [c.name for c in ultimas] == ["block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    assert [c.name for c in red.layers if c.name.startswith("block5_")] == [c.name for c in ultimas]
    assert not any(isinstance(c, keras.layers.BatchNormalization) for c in red.layers)


def test_en_resnet50_las_4_ultimas_parten_el_bloque_y_descongelan_una_batchnorm(base_aleatoria):
    red = base_aleatoria("resnet50")
    ultimas = _como_el_articulo(red)
    assert [type(c).__name__ for c in ultimas] == ["Conv2D", "BatchNormalization", "Add", "Activation"]
    assert all(c.name.startswith("conv5_block3_") for c in ultimas)
    assert sum(c.name.startswith("conv5_") for c in red.layers) > len(ultimas)  # el bloque conv5 queda partido
    assert _batchnorm_entrenables(red) == 1


@pytest.mark.parametrize("nombre", ["vgg16", "resnet50"])
def test_descongelar_por_bloque_deja_las_batchnorm_congeladas(base_aleatoria, nombre):
    red = base_aleatoria(nombre)
    arquitecturas.descongelar_desde(red, arquitecturas.obtener(nombre).punto_descongelar)
    assert _batchnorm_entrenables(red) == 0
    assert red.trainable_weights


def test_adam_no_mueve_una_capa_mas_que_su_escala():
    """Cada paso de Adam mueve cada peso del orden de la tasa: tras P pasos, cambio relativo ≲ P·tasa/rms(W).

    La cota estricta (Kingma y Ba, sección 2.1) es tasa·(1 − β1)/√(1 − β2) por paso; con los valores por
    defecto de Keras, unas 3,2 veces la tasa. La prueba exige la cota estricta y comprueba que el caso típico,
    con gradientes densos, queda por debajo de la escala que imprime el cuaderno.
    """
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 20)).astype("float32"), rng.integers(0, 3, 64)
    modelo = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)])
    tasa, pasos = 1e-3, 8
    modelo.compile(optimizer=keras.optimizers.Adam(tasa), loss=keras.losses.SparseCategoricalCrossentropy(True))
    antes = [keras.ops.convert_to_numpy(w).astype(np.float64) for w in modelo.layers[0].trainable_weights]
    modelo.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert int(keras.ops.convert_to_numpy(modelo.optimizer.iterations)) == pasos
    a = np.concatenate([w.ravel() for w in antes])
    d = np.concatenate(
        [keras.ops.convert_to_numpy(w).astype(np.float64).ravel() for w in modelo.layers[0].trainable_weights]
    )
    relativo = np.linalg.norm(d - a) / np.linalg.norm(a)
    escala = pasos * tasa / np.sqrt(np.mean(a**2))
    assert 0 < relativo <= escala * 0.1 / np.sqrt(1 - 0.999)
    assert relativo <= escala
