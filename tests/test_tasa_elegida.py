"""Tus datos (`entrenar`): la fase 2 del ajuste fino elige su tasa en validación y la prueba se mira una vez."""

import numpy as np
import pytest

from course_utils import arquitecturas, datos, demo, entrenamiento, estrategias
from course_utils import config as cfg


@pytest.mark.parametrize(
    ("imagenes", "del_modo", "esperadas"),
    [(250, 5, 30), (1500, 5, 5), (5000, 5, 5), (10, 5, 30), (1000, 2, 8), (300, 40, 40)],
)
def test_epocas_tus_datos_fijan_las_imagenes_vistas_con_un_minimo_y_un_tope(imagenes, del_modo, esperadas):
    assert estrategias.epocas_tus_datos(imagenes, del_modo) == esperadas


@pytest.mark.parametrize(("estrategia", "esperadas"), [("fine_tuning", 30), ("extraccion_continuada", 30),
                                                      ("extraccion", 5), ("desde_cero", 5)])  # fmt: skip
def test_config_tus_datos_solo_alarga_la_fase_2(estrategia, esperadas):
    class Conjunto:
        particiones = {"entrenamiento": [None] * 250}

    config = cfg.obtener_config("clase")
    assert estrategias.config_tus_datos(config, Conjunto(), estrategia).epocas == esperadas
    assert config.epocas == 5, "la configuración original no cambia"


def test_la_tasa_se_elige_por_val_loss_desde_el_mismo_punto_y_la_prueba_se_evalua_una_vez(monkeypatch, entorno_limpio):
    original_base, original_entrenar = arquitecturas.cargar_base, entrenamiento.entrenar
    monkeypatch.setattr(
        arquitecturas, "cargar_base", lambda n, p="imagenet", t=None, c=None: original_base(n, None, t, c)
    )
    config = cfg.obtener_config("rapido", tam_imagen=32, epocas=2, lote=4)
    conjunto = datos.cargar_carpeta(demo.generar_demo(entorno_limpio / "frutas", imagenes_por_clase=10, tam=40), config)
    ext = estrategias.extraccion_en_cache("mobilenet_v2", conjunto, config, 32)
    iniciales = ext.base.get_weights()

    vistas = []  # (tasa, ¿la base empieza con los pesos iniciales?) en cada candidata

    def entrenar(modelo, ds_tr, ds_val, epocas, paciencia=3, verbose=2):
        mismos = all(np.array_equal(a, b) for a, b in zip(ext.base.get_weights(), iniciales, strict=True))
        vistas.append((float(modelo.optimizer.learning_rate.numpy()), mismos))
        return original_entrenar(modelo, ds_tr, ds_val, epocas, paciencia, verbose=0)

    pruebas = []
    original_prueba = entrenamiento.evaluar_prueba
    monkeypatch.setattr(entrenamiento, "entrenar", entrenar)
    monkeypatch.setattr(entrenamiento, "evaluar_prueba", lambda m, ds: pruebas.append(1) or original_prueba(m, ds))

    tasas = (1e-6, 1e-2)  # tan distintas que sus val_loss no empatan al redondear
    resultado = estrategias.ajuste_fino_con_tasa_elegida(ext, conjunto, config, tasas)

    registro = resultado.registro
    assert [t for t, _ in vistas] == pytest.approx(list(tasas))
    assert all(mismos for _, mismos in vistas), "cada candidata debe partir de la base preentrenada, no de la anterior"
    assert len(pruebas) == 1, "la prueba se evalúa una sola vez, para la tasa elegida"
    perdidas = registro["val_loss_por_tasa"]
    assert set(perdidas) == {f"{t:.0e}" for t in tasas}
    assert perdidas[f"{registro['tasa_ajuste_fino']:.0e}"] == min(perdidas.values())
    # El modelo devuelto es el de la elegida: su val_loss es la anotada.
    _, ds_val, _ = entrenamiento.preparar_datasets(
        conjunto, config, 32, arquitecturas.obtener("mobilenet_v2").preprocesado
    )
    val = resultado.modelo.evaluate(ds_val, verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(min(perdidas.values()), abs=1e-3)
    assert ext.base.trainable is False


def test_la_cabeza_en_cache_escribe_una_linea_por_semilla_y_no_una_por_epoca(monkeypatch, entorno_limpio, capsys):
    original_base = arquitecturas.cargar_base
    monkeypatch.setattr(
        arquitecturas, "cargar_base", lambda n, p="imagenet", t=None, c=None: original_base(n, None, t, c)
    )
    config = cfg.obtener_config("rapido", tam_imagen=32, lote=4)
    conjunto = datos.cargar_carpeta(demo.generar_demo(entorno_limpio / "frutas", imagenes_por_clase=10, tam=40), config)
    capsys.readouterr()
    ext = estrategias.extraccion_en_cache("squeezenet", conjunto, config, 32)

    salida = capsys.readouterr().out
    resumenes = [linea for linea in salida.splitlines() if linea.startswith("Cabeza en caché (semilla ")]
    assert len(resumenes) == estrategias.SEMILLAS_CABEZA, salida
    assert "Epoch" not in salida and "val_loss:" not in salida, salida
    epocas = ext.resultado.registro["epocas"]
    assert f"(semilla {config.semilla}): {epocas} épocas" in salida
    motivo = "llegó al tope" if epocas == config.epocas_cabeza else "parada temprana"
    assert motivo in resumenes[-1]
