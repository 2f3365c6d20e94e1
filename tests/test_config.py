"""Pruebas de los modos, las rutas y las semillas."""

import numpy as np
import pytest

from course_utils import config as cfg


def test_modo_por_defecto_es_el_de_portatil(entorno_limpio):
    assert cfg.obtener_config().modo == "clase"


def test_modo_desde_variable_de_entorno(entorno_limpio, monkeypatch):
    monkeypatch.setenv("CURSO_MODO", "rapido")
    config = cfg.obtener_config()
    assert config.modo == "rapido" and config.rapido
    assert config.epocas <= 2 and config.tam_imagen < 128


def test_el_argumento_manda_sobre_la_variable(entorno_limpio, monkeypatch):
    monkeypatch.setenv("CURSO_MODO", "rapido")
    assert cfg.obtener_config("completo").modo == "completo"


def test_modo_con_tilde_y_mayusculas(entorno_limpio):
    assert cfg.obtener_config("Rápido").modo == "rapido"


def test_modo_desconocido_da_error_en_espanol(entorno_limpio):
    with pytest.raises(ValueError, match="Modo desconocido.*rapido, clase, completo"):
        cfg.obtener_config("turbo")


def test_parametros_del_cuaderno_sustituyen_al_modo(entorno_limpio):
    config = cfg.obtener_config("rapido", tam_imagen=128, epocas=7, imagenes_por_clase=3)
    assert (config.tam_imagen, config.epocas, config.imagenes_por_clase) == (128, 7, 3)


def test_completo_usa_el_tamano_nativo(entorno_limpio):
    config = cfg.obtener_config("completo")
    assert config.imagenes_por_clase is None and config.tam_para(299) == 299


def test_rutas_desde_variables(entorno_limpio, monkeypatch, tmp_path):
    monkeypatch.setenv("CURSO_PESOS_DIR", str(tmp_path / "pesos"))
    config = cfg.obtener_config()
    assert config.datos_dir == tmp_path / "datos"
    assert config.pesos_dir == tmp_path / "pesos"
    assert config.resultados_dir == tmp_path / "resultados"


def test_sin_carpeta_de_pesos_es_none(entorno_limpio):
    assert cfg.obtener_config().pesos_dir is None


def test_describir_avisa_en_modo_rapido(entorno_limpio):
    assert "orientativos" in cfg.describir(cfg.obtener_config("rapido"))
    assert "orientativos" not in cfg.describir(cfg.obtener_config("clase"))


def test_fijar_semillas_es_reproducible():
    cfg.fijar_semillas(7)
    a = np.random.rand(3)
    cfg.fijar_semillas(7)
    assert np.array_equal(a, np.random.rand(3))


def test_imagenes_por_clase_none_pide_todas_en_cualquier_modo():
    assert cfg.obtener_config("clase").imagenes_por_clase == 100  # por defecto, las del modo
    assert cfg.obtener_config("clase", imagenes_por_clase=None).imagenes_por_clase is None
    assert cfg.obtener_config("rapido", imagenes_por_clase="todas").imagenes_por_clase is None
    assert cfg.obtener_config("clase", imagenes_por_clase="modo").imagenes_por_clase == 100
    assert cfg.obtener_config("clase", imagenes_por_clase=7).imagenes_por_clase == 7
    with pytest.raises(ValueError, match="imagenes_por_clase"):
        cfg.obtener_config("clase", imagenes_por_clase=0)


def test_en_clase_la_prueba_usa_todas_sus_imagenes_y_la_validacion_se_limita(entorno_limpio):
    clase, rapido = cfg.obtener_config("clase"), cfg.obtener_config("rapido")
    assert clase.imagenes_prueba_por_clase is None, "la prueba se evalúa una vez: en clase, entera"
    assert clase.imagenes_val_por_clase == 30, "la validación se pasa en cada época: se limita"
    assert rapido.imagenes_prueba_por_clase == rapido.imagenes_val_por_clase == 5


def test_tus_datos_usan_todas_las_imagenes_y_el_tamano_nativo(entorno_limpio):
    config = cfg.obtener_config_tus_datos("clase")
    assert config.imagenes_por_clase is None and config.imagenes_cache_por_clase is None
    assert config.imagenes_val_por_clase is None and config.imagenes_prueba_por_clase is None
    assert config.tam_imagen is None and config.tam_para(224) == 224
    assert "el nativo de cada red" in cfg.describir(config)


def test_tus_datos_con_tope_y_tamano_pedidos(entorno_limpio):
    config = cfg.obtener_config_tus_datos("clase", imagenes_por_clase=50, tam_imagen=128, epocas=3)
    assert (config.imagenes_por_clase, config.imagenes_cache_por_clase, config.tam_imagen) == (50, 50, 128)
    assert config.epocas == 3


def test_tus_datos_en_modo_rapido_conservan_el_tamano_pequeno(entorno_limpio):
    assert cfg.obtener_config_tus_datos("rapido").tam_imagen == cfg.MODOS["rapido"].tam_imagen
