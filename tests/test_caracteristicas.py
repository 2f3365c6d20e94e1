"""Pruebas de las ayudas del cuaderno 03: proyección, vecinos, separabilidad, filtros y profundidad."""

import keras
import numpy as np
import pytest

from course_utils import caracteristicas, medicion


def _grupos(separados=True, n=6, dim=8, semilla=0):
    """Dos grupos de vectores: muy separados (clases limpias) o mezclados al azar."""
    rng = np.random.default_rng(semilla)
    y = np.repeat([0, 1], n)
    centros = np.where(separados, 10.0, 0.0) * np.eye(2, dim)
    return centros[y] + rng.normal(0, 1, (2 * n, dim)), y


def test_proyeccion_2d_conserva_la_direccion_de_mas_varianza():
    x = np.zeros((4, 3))
    x[:, 1] = [-3.0, -1.0, 1.0, 3.0]
    proy = caracteristicas.proyeccion_2d(x)
    assert proy.shape == (4, 2)
    np.testing.assert_allclose(np.abs(proy[:, 0]), [3, 1, 1, 3], atol=1e-6)


def test_vecinos_cercanos_excluye_la_consulta_y_ordena_por_coseno():
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.7, 0.7]])
    vecinos = caracteristicas.vecinos_cercanos(x, 0, k=3)
    assert 0 not in vecinos
    assert list(vecinos) == [1, 3, 2]


def test_separabilidad_distingue_grupos_limpios_de_mezclados():
    assert caracteristicas.separabilidad(*_grupos(separados=True)) == 1.0
    assert caracteristicas.separabilidad(*_grupos(separados=False)) < 0.8


def test_precision_vecinos_en_grupos_limpios_y_a_mano():
    assert caracteristicas.precision_vecinos(*_grupos(separados=True), k=3) == 1.0
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([0, 1, 1, 1])
    # Vecino 1 de cada punto: 1, 0, 3, 2 -> aciertos: no, no, sí, sí.
    assert caracteristicas.precision_vecinos(x, y, k=1) == pytest.approx(0.5)


@pytest.mark.parametrize("k", [0, 12])
def test_precision_vecinos_con_k_imposible_da_error_claro(k):
    with pytest.raises(ValueError, match="vecinos no es válido"):
        caracteristicas.precision_vecinos(*_grupos(), k=k)


def test_mosaico_filtros_normaliza_cada_filtro_y_coloca_la_rejilla():
    kernel = np.zeros((3, 3, 3, 5), dtype=np.float32)
    kernel[0, 0, 0, :] = np.arange(1, 6)  # cada filtro: un píxel rojo sobre fondo 0, con escalas distintas
    mosaico = caracteristicas.mosaico_filtros(kernel, columnas=4, escala=2)
    assert mosaico.dtype == np.uint8
    assert mosaico.shape == (2 * (3 * 2 + 2), 4 * (3 * 2 + 2), 3)
    primero = mosaico[1:7, 1:7]
    assert primero[0, 0].tolist() == [255, 0, 0]  # el máximo llega a 255 sea cual sea la escala
    assert primero[5, 5].tolist() == [0, 0, 0]
    segundo = mosaico[1:7, 9:15]
    np.testing.assert_array_equal(primero, segundo)


def test_mosaico_filtros_bgr_invierte_los_canales():
    kernel = np.zeros((2, 2, 3, 1), dtype=np.float32)
    kernel[..., 0, 0] = 1.0  # canal 0: el azul en una red «caffe»
    rgb = caracteristicas.mosaico_filtros(kernel, columnas=1, escala=1, bgr=True)
    assert rgb[1, 1].tolist() == [0, 0, 255]


def test_mosaico_filtros_rechaza_un_kernel_que_no_es_de_rgb():
    with pytest.raises(ValueError, match="primera capa convolucional"):
        caracteristicas.mosaico_filtros(np.zeros((3, 3, 16, 8)))


def test_profundidad_cuenta_convoluciones_y_densas_sin_batchnorm_y_entra_en_submodelos():
    entrada = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(entrada)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.SeparableConv2D(4, 3)(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    base = keras.Model(entrada, x)
    assert medicion.profundidad(base) == 3
    completo = keras.Sequential(
        [keras.Input((8, 8, 3)), base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)]
    )
    assert medicion.profundidad(completo) == 4
