"""The simulated clouds. Each module exposes CLOUD (a clouds.common.Cloud); add a cloud by
writing a module and listing it here."""

from . import tencent

ALL = [tencent.CLOUD]


def load():
    clouds = list(ALL)
    for modname in ("ctyun", "baidu", "alaya"):
        try:
            mod = __import__("clouds." + modname, fromlist=["CLOUD"])
        except ImportError:
            continue
        clouds.append(mod.CLOUD)
    return clouds
