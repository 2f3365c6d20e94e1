"""Pruebas de `bloques_desde_arriba`: los bloques de cada base, del más alto al más bajo, y su descongelado."""

import keras
import numpy as np
import pytest

from course_utils import arquitecturas


def _mini_base(n_bloques=3):
    """Base diminuta con bloques `blockN_` de convolución + BatchNorm, como VGG o Xception."""
    entrada = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="stem_conv")(entrada)
    for b in range(1, n_bloques + 1):
        x = keras.layers.Conv2D(4, 3, padding="same", name=f"block{b}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{b}_bn")(x)
        x = keras.layers.Activation("relu", name=f"block{b}_relu")(x)
    return keras.Model(entrada, x, name="mini")


def _entrenables(modelo):
    return sum(int(np.prod(w.shape)) for w in modelo.trainable_weights)


def test_orden_de_arriba_abajo_en_una_base_diminuta():
    assert arquitecturas.bloques_desde_arriba(_mini_base(3)) == ["block3", "block2", "block1"]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_descongelar_los_n_ultimos_bloques_deja_la_batchnorm_congelada(n):
    base = _mini_base(3)
    punto = arquitecturas.bloques_desde_arriba(base)[n - 1]
    arquitecturas.descongelar_desde(base, punto)
    convs = [c.name for c in base.layers if isinstance(c, keras.layers.Conv2D) and c.trainable]
    assert convs == [f"block{b}_conv" for b in range(4 - n, 4)]
    assert not any(c.trainable for c in base.layers if isinstance(c, keras.layers.BatchNormalization))
    assert _entrenables(base) == n * (3 * 3 * 4 * 4 + 4)


def test_base_sin_bloques_da_error_claro():
    entrada = keras.Input((8, 8, 3))
    base = keras.Model(entrada, keras.layers.Conv2D(2, 3, name="capa_suelta")(entrada), name="sin_bloques")
    with pytest.raises(ValueError, match="sin_bloques no tiene capas con nombres de bloque.*capa_suelta"):
        arquitecturas.bloques_desde_arriba(base)


@pytest.mark.parametrize(
    "nombre,primeros",
    [
        ("mobilenet_v2", ["block_16", "block_15", "block_14"]),
        ("vgg16", ["block5", "block4", "block3"]),
        ("resnet50", ["conv5", "conv4", "conv3"]),
        ("inception_v3", ["mixed10", "mixed9", "mixed8"]),
        ("xception", ["block14", "block13", "block12"]),
        ("squeezenet", ["fire9", "fire8", "fire7"]),
    ],
)
def test_redes_del_curso_empiezan_por_su_punto_de_descongelado(base_aleatoria, nombre, primeros):
    arq = arquitecturas.obtener(nombre)
    base = base_aleatoria(nombre)
    bloques = arquitecturas.bloques_desde_arriba(base)
    assert bloques[:3] == primeros
    assert arq.punto_descongelar in bloques[:2]
    indices = [arquitecturas.indice_de_punto(base, b) for b in bloques[:3]]
    assert indices == sorted(indices, reverse=True), "cada bloque más bajo empieza antes en la base"
