"""Pruebas del registro de redes y del orden de resolución de pesos."""

import shutil
from pathlib import Path

import keras
import pytest
from conftest import PESOS_ORIGINALES

from course_utils import arquitecturas, squeezenet
from course_utils import config as cfg


def test_las_siete_redes_estan_registradas():
    assert set(arquitecturas.NOMBRES) == {
        "vgg16", "vgg19", "resnet50", "inception_v3", "xception", "squeezenet", "mobilenet_v2"
    }  # fmt: skip


def test_nombre_desconocido_lista_los_validos():
    with pytest.raises(ValueError, match="Arquitectura desconocida: 'alexnet'.*vgg16.*mobilenet_v2"):
        arquitecturas.obtener("alexnet")


def test_nombre_con_mayusculas_y_guion():
    assert arquitecturas.obtener("MobileNet-V2").nombre == "mobilenet_v2"


@pytest.mark.parametrize("nombre,tam", [("inception_v3", 64), ("xception", 70), ("vgg16", 16)])
def test_imagen_menor_que_el_minimo_da_error(entorno_limpio, nombre, tam):
    with pytest.raises(ValueError, match="necesita imágenes de al menos"):
        arquitecturas.cargar_base(nombre, pesos=None, tam=tam, config=cfg.obtener_config("rapido"))


@pytest.mark.parametrize("nombre", arquitecturas.NOMBRES)
def test_parametros_y_punto_de_descongelado(base_aleatoria, nombre):
    arq = arquitecturas.obtener(nombre)
    base = base_aleatoria(nombre)  # cargar_base(nombre, pesos=None, ...): la fixture comprueba que son aleatorios
    assert base.count_params() == arq.parametros
    inicio = arquitecturas.indice_de_punto(base, arq.punto_descongelar)
    assert 0 < inicio < len(base.layers)
    entrenables = arquitecturas.descongelar_desde(base, arq.punto_descongelar)
    assert entrenables > 0
    assert not any(c.trainable for c in base.layers[:inicio])
    assert not any(c.trainable for c in base.layers if isinstance(c, keras.layers.BatchNormalization))


def test_inception_descongela_tras_mixed8(base_aleatoria):
    base = base_aleatoria("inception_v3")
    inicio = arquitecturas.indice_de_punto(base, "mixed9")
    assert base.layers[inicio - 1].name == "mixed8"


def _contar_constructores(monkeypatch, arq):
    llamadas = []
    original = arq.constructor

    def espia(**kwargs):
        llamadas.append(kwargs["weights"])
        return original(**{**kwargs, "weights": None})

    monkeypatch.setitem(arquitecturas.REGISTRO, arq.nombre, arquitecturas.dataclasses.replace(arq, constructor=espia))
    return llamadas


def test_resolucion_1_carpeta_local_por_ruta(entorno_limpio, monkeypatch, tmp_path):
    arq = arquitecturas.obtener("mobilenet_v2")
    (tmp_path / "pesos").mkdir()
    (tmp_path / "pesos" / arq.archivo_pesos).write_bytes(b"x")
    monkeypatch.setenv("CURSO_PESOS_DIR", str(tmp_path / "pesos"))
    llamadas = _contar_constructores(monkeypatch, arq)
    _, origen = arquitecturas.cargar_base("mobilenet_v2", tam=96, config=cfg.obtener_config("clase"))
    assert origen == "local" and llamadas == [str(tmp_path / "pesos" / arq.archivo_pesos)]


def test_resolucion_2_cache_de_keras_si_no_hay_archivo_local(entorno_limpio, monkeypatch, tmp_path):
    monkeypatch.setenv("CURSO_PESOS_DIR", str(tmp_path / "vacia"))
    llamadas = _contar_constructores(monkeypatch, arquitecturas.obtener("mobilenet_v2"))
    _, origen = arquitecturas.cargar_base("mobilenet_v2", tam=96, config=cfg.obtener_config("clase"))
    assert origen == "imagenet" and llamadas == ["imagenet"]


def _sin_red(monkeypatch, arq):
    def falla(**kwargs):
        if kwargs["weights"] == "imagenet":
            raise Exception("URL fetch failure: [Errno -2] Name or service not known")
        return arq.constructor(**kwargs)

    monkeypatch.setitem(arquitecturas.REGISTRO, arq.nombre, arquitecturas.dataclasses.replace(arq, constructor=falla))


def test_resolucion_3_aleatorios_con_aviso_en_modo_rapido(entorno_limpio, monkeypatch, capsys):
    _sin_red(monkeypatch, arquitecturas.obtener("vgg19"))
    base, origen = arquitecturas.cargar_base("vgg19", tam=64, config=cfg.obtener_config("rapido"))
    assert origen == "aleatorios" and base.count_params() > 0
    assert "pesos ALEATORIOS" in capsys.readouterr().out


def test_resolucion_3_error_fuera_del_modo_rapido(entorno_limpio, monkeypatch):
    _sin_red(monkeypatch, arquitecturas.obtener("resnet50"))
    with pytest.raises(arquitecturas.PesosNoDisponibles, match="(?s)descargar --pesos.*CURSO_PESOS_DIR"):
        arquitecturas.cargar_base("resnet50", tam=64, config=cfg.obtener_config("clase"))


def test_archivo_local_corrupto_da_error_claro(entorno_limpio, monkeypatch, tmp_path):
    arq = arquitecturas.obtener("squeezenet")
    (tmp_path / arq.archivo_pesos).write_bytes(b"esto no es un h5")
    monkeypatch.setenv("CURSO_PESOS_DIR", str(tmp_path))
    with pytest.raises(arquitecturas.PesosNoDisponibles, match="no se puede cargar.*corrupto"):
        arquitecturas.cargar_base("squeezenet", tam=96, config=cfg.obtener_config("rapido"))


def test_cache_real_de_keras_con_hash_verificado(entorno_limpio, monkeypatch):
    """La ruta real `weights="imagenet"`: SqueezeNet en la caché de Keras (md5 correcto) se usa sin red."""
    config = cfg.obtener_config("rapido")
    fuente = Path(PESOS_ORIGINALES or "/no-definida") / squeezenet.ARCHIVO_PESOS
    if not fuente.is_file():
        pytest.skip("CURSO_PESOS_DIR no apunta a una carpeta con los pesos de SqueezeNet.")
    cache = entorno_limpio / "keras_home" / "models"
    cache.mkdir(parents=True)
    shutil.copy(fuente, cache / squeezenet.ARCHIVO_PESOS)
    monkeypatch.setattr("urllib.request.urlretrieve", lambda *a, **k: (_ for _ in ()).throw(OSError("sin red")))
    _, origen = arquitecturas.cargar_base("squeezenet", tam=96, config=config)
    assert origen == "imagenet"


def test_pesos_locales_reales_si_estan_disponibles(base_aleatoria):
    config = cfg.obtener_config("rapido")
    if not config.pesos_dir or not (config.pesos_dir / arquitecturas.obtener("vgg16").archivo_pesos).is_file():
        pytest.skip("CURSO_PESOS_DIR no tiene los pesos de VGG16.")
    base, origen = arquitecturas.cargar_base("vgg16", tam=64, config=config)
    assert origen == "local"
    aleatoria = base_aleatoria("vgg16")
    assert not (base.layers[1].get_weights()[0] == aleatoria.layers[1].get_weights()[0]).all()


@pytest.mark.parametrize("tam,lado", [(96, 96), (128, 128), (160, 160), (192, 192), (224, 224), (100, 224), (299, 224)])
def test_mobilenet_v2_pide_el_archivo_de_su_tamano_como_keras(tam, lado):
    arq = arquitecturas.obtener("mobilenet_v2")
    assert (
        arquitecturas.archivo_keras(arq, tam) == f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{lado}_no_top.h5"
    )


def test_las_demas_redes_tienen_un_solo_archivo():
    arq = arquitecturas.obtener("xception")
    assert arquitecturas.archivo_keras(arq, 160) == arq.archivo_pesos


def _pesos_falsos(carpeta, *lados):
    carpeta.mkdir(exist_ok=True)
    for lado in lados:
        (carpeta / f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{lado}_no_top.h5").write_bytes(b"x")
    return carpeta


def test_ruta_local_prefiere_el_archivo_del_tamano_pedido(tmp_path):
    arq = arquitecturas.obtener("mobilenet_v2")
    carpeta = _pesos_falsos(tmp_path / "pesos", 160, 224)
    ruta = arquitecturas.ruta_local(arq, 160, carpeta)
    assert ruta == carpeta / arquitecturas.archivo_keras(arq, 160)
    assert arquitecturas.aviso_otro_tamano(arq, 160, ruta) is None


def test_ruta_local_usa_el_de_224_y_lo_dice(tmp_path):
    arq = arquitecturas.obtener("mobilenet_v2")
    carpeta = _pesos_falsos(tmp_path / "pesos", 224)
    ruta = arquitecturas.ruta_local(arq, 160, carpeta)
    assert ruta == carpeta / arq.archivo_pesos
    aviso = arquitecturas.aviso_otro_tamano(arq, 160, ruta)
    assert "se cargó " + arq.archivo_pesos in aviso and "_1.0_160_no_top.h5" in aviso and "224 px" in aviso


def test_ruta_local_sin_carpeta_o_sin_archivo(tmp_path):
    arq = arquitecturas.obtener("mobilenet_v2")
    assert arquitecturas.ruta_local(arq, 160, None) is None
    assert arquitecturas.ruta_local(arq, 160, _pesos_falsos(tmp_path / "vacia", 96)) is None


def test_cargar_base_avisa_al_usar_el_de_224(entorno_limpio, monkeypatch, tmp_path, capsys):
    arq = arquitecturas.obtener("mobilenet_v2")
    monkeypatch.setenv("CURSO_PESOS_DIR", str(_pesos_falsos(tmp_path / "pesos", 224)))
    llamadas = _contar_constructores(monkeypatch, arq)
    _, origen = arquitecturas.cargar_base("mobilenet_v2", tam=96, config=cfg.obtener_config("clase"))
    assert origen == "local" and llamadas == [str(tmp_path / "pesos" / arq.archivo_pesos)]
    assert "Keras a ese tamaño" in capsys.readouterr().out
