"""Pruebas de course_utils.gradcam: capa elegida, formas, rango, bases anidadas y una localización conocida."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
from conftest import tam_prueba

from course_utils import arquitecturas, estrategias, gradcam


def _modelo_cuadrante(tam=16):
    """CNN hecha a mano: un canal = brillo de cada píxel; clase 0 = «hay brillo», clase 1 = lo contrario."""
    entrada = keras.Input((tam, tam, 3))
    x = keras.layers.Conv2D(1, 1, activation="relu", name="brillo")(entrada)
    x = keras.layers.GlobalAveragePooling2D()(x)
    salida = keras.layers.Dense(2, activation="softmax", name="clasificador")(x)
    modelo = keras.Model(entrada, salida)
    modelo.get_layer("brillo").set_weights([np.full((1, 1, 3, 1), 1 / 3, np.float32), np.zeros(1, np.float32)])
    modelo.get_layer("clasificador").set_weights([np.array([[4.0, -4.0]], np.float32), np.zeros(2, np.float32)])
    return modelo


def _imagen_con_cuadrado(tam=16, fila=0, columna=0):
    x = np.zeros((tam, tam, 3), np.float32)
    mitad = tam // 2
    x[fila * mitad + 2 : fila * mitad + mitad - 2, columna * mitad + 2 : columna * mitad + mitad - 2] = 1.0
    return x


def _masa(mapa, fila, columna):
    mitad = mapa.shape[0] // 2
    return mapa[fila * mitad : (fila + 1) * mitad, columna * mitad : (columna + 1) * mitad].sum() / mapa.sum()


@pytest.mark.parametrize("cuadrante", [(0, 0), (1, 1), (0, 1)])
def test_resalta_el_cuadrante_con_el_objeto(cuadrante):
    modelo = _modelo_cuadrante()
    mapa, indice, probabilidades = gradcam.mapa_gradcam(modelo, _imagen_con_cuadrado(16, *cuadrante))
    assert indice == 0 and probabilidades.argmax() == 0
    assert _masa(mapa, *cuadrante) > 0.8
    assert mapa.max() == pytest.approx(1.0)


def test_gradientes_contrarios_dan_un_mapa_nulo_sin_nan():
    mapa, indice, _ = gradcam.mapa_gradcam(_modelo_cuadrante(), _imagen_con_cuadrado(), indice_clase=1)
    assert indice == 1
    assert not np.isnan(mapa).any() and mapa.max() == 0.0


def test_cnn_plana_elige_el_ultimo_pooling():
    modelo = estrategias.construir_desde_cero(5, 48)
    esperada = [c.name for c in modelo.layers if isinstance(c, keras.layers.MaxPooling2D)][-1]
    assert gradcam.ultima_capa_convolucional(modelo) == esperada
    mapa, indice, probabilidades = gradcam.mapa_gradcam(modelo, np.random.default_rng(0).random((48, 48, 3)))
    assert mapa.shape == (48, 48) and mapa.dtype == np.float32
    assert 0.0 <= mapa.min() and mapa.max() <= 1.0 and not np.isnan(mapa).any()
    assert probabilidades.shape == (5,) and probabilidades.sum() == pytest.approx(1.0, abs=1e-4)
    assert indice == int(probabilidades.argmax())


def _anidado(base_aleatoria, nombre):
    """Modelo de extracción (entrada → base anidada → cabeza) sobre la base compartida de la sesión."""
    return estrategias.construir_extraccion(base_aleatoria(nombre), 3, tam_prueba(nombre))


@pytest.mark.parametrize("nombre", arquitecturas.NOMBRES)
def test_las_siete_redes_anidadas(base_aleatoria, nombre):
    tam = tam_prueba(nombre)
    modelo = _anidado(base_aleatoria, nombre)
    capa = gradcam.ultima_capa_convolucional(modelo)
    assert capa in [c.name for c in modelo.layers[1].layers]  # está dentro de la base, no fuera
    x = np.random.default_rng(1).uniform(-1, 1, (tam, tam, 3))
    mapa, indice, probabilidades = gradcam.mapa_gradcam(modelo, x)
    assert mapa.shape == (tam, tam) and 0.0 <= mapa.min() and mapa.max() <= 1.0 and not np.isnan(mapa).any()
    esperadas = np.asarray(modelo(x[None].astype(np.float32), training=False))[0]
    np.testing.assert_allclose(probabilidades, esperadas, atol=1e-5)
    assert esperadas[indice] == pytest.approx(esperadas.max(), abs=1e-6)  # la más probable (con empates, cualquiera)


@pytest.mark.parametrize(("nombre", "esperada"), [("vgg16", "block5_pool"), ("squeezenet", "fire9_concat")])
def test_nombre_de_la_capa_en_bases_anidadas(base_aleatoria, nombre, esperada):
    assert gradcam.ultima_capa_convolucional(_anidado(base_aleatoria, nombre)) == esperada


def test_capa_interna_elegida_a_mano_y_clase_forzada(base_aleatoria):
    assert tam_prueba("vgg16") == 32
    modelo = _anidado(base_aleatoria, "vgg16")
    x = np.random.default_rng(2).uniform(-1, 1, (32, 32, 3))
    for clase in (2, 0, 1, None):  # a partir de la tercera llamada la función va compilada
        mapa, indice, probabilidades = gradcam.mapa_gradcam(modelo, x, indice_clase=clase, capa="block4_conv3")
        assert mapa.shape == (32, 32) and not np.isnan(mapa).any()
        if clase is None:
            assert probabilidades[indice] == pytest.approx(probabilidades.max(), abs=1e-6)
        else:
            assert indice == clase


def test_errores_claros():
    capas = [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    sin_conv = keras.Sequential(capas)
    with pytest.raises(ValueError, match="no tiene capas convolucionales"):
        gradcam.ultima_capa_convolucional(sin_conv)
    modelo = _modelo_cuadrante()
    with pytest.raises(ValueError, match="ninguna capa «no_existe»"):
        gradcam.mapa_gradcam(modelo, _imagen_con_cuadrado(), capa="no_existe")
    with pytest.raises(ValueError, match="UNA imagen"):
        gradcam.mapa_gradcam(modelo, np.zeros((2, 16, 16, 3)))
    with pytest.raises(ValueError, match="fuera de rango"):
        gradcam.mapa_gradcam(modelo, _imagen_con_cuadrado(), indice_clase=5)


def test_superponer():
    imagen = np.full((20, 30, 3), 100, np.uint8)
    mapa = np.zeros((10, 15), np.float32)
    mapa[:5, :7] = 1.0
    mezcla = gradcam.superponer(imagen, mapa, alfa=0.5)
    assert mezcla.shape == (20, 30, 3) and mezcla.dtype == np.uint8
    assert not np.array_equal(mezcla[0, 0], mezcla[-1, -1])  # rojo donde el mapa vale 1, azul donde vale 0
    assert mezcla[0, 0, 0] > mezcla[0, 0, 2] and mezcla[-1, -1, 2] > mezcla[-1, -1, 0]
    np.testing.assert_array_equal(gradcam.superponer(imagen, mapa, alfa=0.0), imagen)
    with pytest.raises(ValueError, match="alfa"):
        gradcam.superponer(imagen, mapa, alfa=2)
    with pytest.raises(ValueError, match="RGB"):
        gradcam.superponer(imagen[..., 0], mapa)
