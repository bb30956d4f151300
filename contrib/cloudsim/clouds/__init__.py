"""The simulated clouds. Each module exposes CLOUD (a clouds.common.Cloud); add a cloud by
writing a module and listing it here. Order matters only for routing: the first cloud whose
route() claims a request answers it."""

from . import alaya, baidu, ctyun, tencent


def load():
    return [tencent.CLOUD, ctyun.CLOUD, baidu.CLOUD, alaya.CLOUD]
