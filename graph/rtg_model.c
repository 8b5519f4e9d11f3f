/* rtg_model.c — placeholder until the JSON loaders land. */
#include "rtg_model.h"

#include <stdlib.h>

int rtg_model_load(const char *path, rtg_model **out, rtg_error *err)
{
    *out = NULL;
    return rtg_error_set(err, RTG_ENOTSUP, "%s: model loading not implemented yet", path);
}

int rtg_model_load_layer(const char *path, const char *prefix, int layer_index,
                         rtg_model **out, rtg_error *err)
{
    (void)prefix; (void)layer_index;
    *out = NULL;
    return rtg_error_set(err, RTG_ENOTSUP, "%s: model loading not implemented yet", path);
}

void rtg_model_free(rtg_model *m)
{
    if (!m)
        return;
    free(m->layers);
    free(m->store);
    free(m);
}
