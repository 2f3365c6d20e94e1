"""Sin red, sin copias locales y con la caché de Keras vacía, los cuadernos 00-02 corren sobre la demo generada."""

import json
import textwrap

import pytest

from course_utils import ejecucion, registros

pytestmark = pytest.mark.cuadernos

BLOQUEO_DE_RED = textwrap.dedent(
    """
    import socket

    _conectar, _resolver = socket.socket.connect, socket.getaddrinfo

    def _es_local(host):
        return host in (None, "localhost", "::1", "") or str(host).startswith("127.")

    def connect(self, direccion):
        if self.family == getattr(socket, "AF_UNIX", None) or _es_local(direccion[0]):
            return _conectar(self, direccion)
        raise OSError("Red bloqueada por la prueba sin conexión")

    def getaddrinfo(host, *args, **kwargs):
        if _es_local(host):
            return _resolver(host, *args, **kwargs)
        raise socket.gaierror("Red bloqueada por la prueba sin conexión")

    socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
    """
)
CUADERNOS = [c for c in ejecucion.listar_cuadernos() if c.name[:2] in {"00", "01", "02"}]


@pytest.fixture(scope="module")
def sin_conexion(tmp_path_factory):
    """Entorno de un aula sin red: sin CURSO_DATOS_DIR ni CURSO_PESOS_DIR, caché vacía y red bloqueada."""
    raiz = tmp_path_factory.mktemp("sin_conexion")
    (raiz / "sitio").mkdir()
    (raiz / "sitio" / "sitecustomize.py").write_text(BLOQUEO_DE_RED)
    parche = pytest.MonkeyPatch()
    parche.delenv("CURSO_PESOS_DIR", raising=False)
    parche.setenv("CURSO_DATOS_DIR", str(raiz / "datos"))
    parche.setenv("CURSO_RESULTADOS_DIR", str(raiz / "resultados"))
    parche.setenv("KERAS_HOME", str(raiz / "keras_vacia"))
    parche.setenv("PYTHONPATH", str(raiz / "sitio"))
    yield raiz
    parche.undo()


def test_hay_cuadernos_00_a_02():
    assert [c.name[:2] for c in CUADERNOS] == ["00", "01", "02"]


@pytest.mark.parametrize("cuaderno", CUADERNOS, ids=lambda p: p.name)
def test_cuaderno_sin_conexion_usa_la_demo(cuaderno, sin_conexion):
    destino = ejecucion.ejecutar_cuaderno(cuaderno, "rapido", sin_conexion / "build")
    salidas = json.dumps(json.loads(destino.read_text())["cells"], ensure_ascii=False)
    if cuaderno.name[:2] != "00":
        assert "SINTÉTICO" in salidas, "falta el aviso visible de datos de demostración"
    if cuaderno.name[:2] == "02":
        leidos = registros.leer(sin_conexion / "resultados")
        assert leidos and all(r["datos"] == "demo" for r in leidos)


def test_fuera_del_modo_rapido_no_hay_alternativa(sin_conexion, monkeypatch):
    from course_utils import config as cfg
    from course_utils import datos

    monkeypatch.setattr("keras.utils.get_file", _falla_red)
    with pytest.raises(datos.DatosNoDisponibles, match="(?s)modo «clase» no hay alternativa.*descargar --datos"):
        datos.cargar_flores(cfg.obtener_config("clase"))


def _falla_red(*args, **kwargs):
    raise Exception("URL fetch failure: red bloqueada")
