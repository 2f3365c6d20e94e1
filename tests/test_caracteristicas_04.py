"""Pruebas de las ayudas del cuaderno 04: mapas sin promediar y `tf.data` desde características en caché."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import caracteristicas


def _base_mini():
    """Una base diminuta con BatchNorm que devuelve mapas de activación 4-D, como las de verdad."""
    keras.utils.set_random_seed(0)
    entrada = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(entrada)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(entrada, keras.layers.ReLU()(x), name="base_mini")


def _ds_imagenes(n=10, lote=4):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (n, 16, 16, 3)).astype("float32")
    y = (np.arange(n) % 3).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(lote), y


def test_extraer_mapas_conserva_la_forma_y_coincide_con_la_media():
    base = _base_mini()
    ds, y = _ds_imagenes()
    mapas, y_mapas = caracteristicas.extraer_mapas(base, ds)
    vectores, _ = caracteristicas.extraer(base, ds)
    assert mapas.shape == (10, 8, 8, 4) and mapas.dtype == np.float32
    np.testing.assert_array_equal(y_mapas, y)
    np.testing.assert_allclose(mapas.mean(axis=(1, 2)), vectores, rtol=1e-5, atol=1e-6)


def test_extraer_mapas_de_un_conjunto_vacio_da_error():
    vacio = tf.data.Dataset.from_tensor_slices((np.zeros((0, 16, 16, 3), "float32"), np.zeros(0, "int32"))).batch(2)
    with pytest.raises(ValueError, match="vacío"):
        caracteristicas.extraer_mapas(_base_mini(), vacio)


def _particiones():
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(n, 5)).astype("float32"), np.arange(n, dtype="int32")) for n in (9, 4, 3)]


def test_datasets_de_caracteristicas_conserva_todos_los_ejemplos():
    particiones = _particiones()
    ds_tr, ds_val, ds_te = caracteristicas.datasets_de_caracteristicas(particiones, lote=4, semilla=1)
    for ds, (x, y) in zip((ds_tr, ds_val, ds_te), particiones):
        xs, ys = zip(*[(a.numpy(), b.numpy()) for a, b in ds])
        x_ds, y_ds = np.concatenate(xs), np.concatenate(ys)
        orden = np.argsort(y_ds)
        np.testing.assert_array_equal(y_ds[orden], y)
        np.testing.assert_allclose(x_ds[orden], x)
    assert [int(b.shape[0]) for _, b in ds_tr] == [4, 4, 1]


def test_solo_se_baraja_el_entrenamiento():
    ds_tr, ds_val, _ = caracteristicas.datasets_de_caracteristicas(_particiones(), lote=16, semilla=3)
    orden_val = next(iter(ds_val))[1].numpy()
    np.testing.assert_array_equal(orden_val, np.arange(4))
    epocas = [next(iter(ds_tr))[1].numpy().tolist() for _ in range(3)]
    assert any(e != list(range(9)) for e in epocas)


def test_datasets_de_caracteristicas_sirve_para_entrenar_una_cabeza():
    ds_tr, ds_val, _ = caracteristicas.datasets_de_caracteristicas(_particiones(), lote=4)
    cabeza = keras.Sequential([keras.Input((5,)), keras.layers.Dense(9, activation="softmax")])
    cabeza.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    historia = cabeza.fit(ds_tr, validation_data=ds_val, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(historia.history["loss"][0])


def test_numero_de_particiones_incorrecto_da_error_claro():
    with pytest.raises(ValueError, match="Se esperaban 3 pares"):
        caracteristicas.datasets_de_caracteristicas(_particiones()[:2], lote=4)


def test_vectores_y_etiquetas_desalineados_da_error_claro():
    particiones = _particiones()
    particiones[1] = (particiones[1][0], particiones[1][1][:2])
    with pytest.raises(ValueError, match="partición 1 tiene 4 vectores .* y 2 etiquetas"):
        caracteristicas.datasets_de_caracteristicas(particiones, lote=4)
