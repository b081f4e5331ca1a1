/* tunebench devices — the Vulkan devices this machine offers, and which backend a run with
 * the same --backend / --device flags would use. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/core/units.h"
#include "tb_config.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#if TB_HAVE_VULKAN
#include "engine/backend/vulkan/vk_backend.h"
#include "engine/backend/vulkan/vk_instance.h"
#endif

#define CMD "devices"
#define MAX_DEVICES 16

static void usage(FILE *out)
{
    fprintf(out, "usage: tunebench devices [--backend auto|cpu|vulkan] [--device N] [--json]\n\n"
                 "Lists the Vulkan devices (name, type, driver, memory, subgroup size, fp16/int8)\n"
                 "and says which backend a run with the same flags would use. --backend vulkan\n"
                 "opens the device to prove it works (exit 2 with the reason when it cannot).\n"
                 "TUNEBENCH_VK_DEVICE=N picks a device like --device.\n");
}

/* The backend a run would get: name, device index (-1: none) and the one-line notice. */
typedef struct choice {
    const char *selected;   /* "cpu", "vulkan", NULL when the request fails */
    int device;
    char detail[512];       /* description of the opened backend, or why not */
} choice;

/* What tb_backend_create, the function every model command uses, makes of the flags. */
static void choose(const char *backend, int device, choice *c)
{
    memset(c, 0, sizeof *c);
    c->device = -1;
    tb_backend_options opt = {.device = device};
    tb_backend *be = NULL;
    tb_error err;
    tb_error_clear(&err);
    char notice[256];
    if (tb_backend_create(&be, backend, &opt, notice, sizeof notice, &err) != TB_OK) {
        tb_error_format(&err, c->detail, sizeof c->detail);
        return;
    }
    c->selected = be->name;
#if TB_HAVE_VULKAN
    c->device = tb_vulkan_backend_device(be);
#endif
    snprintf(c->detail, sizeof c->detail, "%s", notice[0] ? notice : be->description);
    tb_backend_destroy(be);
}

#if TB_HAVE_VULKAN
static json_t *device_json(const tb_vk_device_info *d)
{
    char api[32];
    snprintf(api, sizeof api, "%u.%u.%u", VK_API_VERSION_MAJOR(d->api_version),
             VK_API_VERSION_MINOR(d->api_version), VK_API_VERSION_PATCH(d->api_version));
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:i, s:b, s:b, s:b}", "index", (int)d->index, "name",
                          d->name, "type", tb_vk_device_type_name(d->type), "driver", d->driver, "vulkan", api,
                          "memory_bytes", (json_int_t)d->device_local_bytes, "subgroup_size", (int)d->subgroup_size,
                          "fp16", d->fp16, "int8", d->int8, "usable", d->usable);
    if (!d->usable)
        json_object_set_new(j, "unusable_reason", json_string(d->unusable_why));
    return j;
}

static void print_table(const tb_vk_device_info *infos, uint32_t n, uint32_t version)
{
    printf("Vulkan %u.%u.%u: %u device%s\n", VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version),
           VK_API_VERSION_PATCH(version), n, n == 1 ? "" : "s");
    if (!n)
        return;
    printf(" #  %-34s %-10s %9s %8s %4s %4s  %s\n", "name", "type", "memory", "subgroup", "fp16", "int8",
           "driver");
    for (uint32_t i = 0; i < n; i++) {
        const tb_vk_device_info *d = &infos[i];
        char mem[32];
        printf("%2u  %-34.34s %-10s %9s %8u %4s %4s  %s%s%s\n", d->index, d->name, tb_vk_device_type_name(d->type),
               tb_format_bytes((int64_t)d->device_local_bytes, mem, sizeof mem), d->subgroup_size, d->fp16 ? "yes" : "no",
               d->int8 ? "yes" : "no", d->driver, d->usable ? "" : "  [unusable: ", d->usable ? "" : d->unusable_why);
        if (!d->usable)
            printf("]\n");
    }
}
#endif

int tb_cmd_devices(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'}, {"device", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *backend = "auto";
    long device = -1;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            backend = optarg;
            if (strcmp(backend, "auto") && strcmp(backend, "cpu") && strcmp(backend, "vulkan")) {
                fprintf(stderr, "tunebench %s: --backend: '%s' is not auto, cpu or vulkan\n", CMD, backend);
                return TB_EXIT_USAGE;
            }
            break;
        case 'd':
            if (!tb_cli_parse_long(CMD, "--device", optarg, 0, 255, &device))
                return TB_EXIT_USAGE;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench %s: unknown or incomplete option '%s'\n", CMD, argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tunebench %s: unexpected argument '%s'\n", CMD, argv[optind]);
        return TB_EXIT_USAGE;
    }

    json_t *root = json_object(), *devs = json_array();
#if TB_HAVE_VULKAN
    tb_vk_device_info infos[MAX_DEVICES];
    uint32_t n = 0, version = 0;
    tb_error err;
    tb_error_clear(&err);
    if (tb_vulkan_devices(infos, MAX_DEVICES, &n, &version, &err) != TB_OK) {
        if (!json)
            printf("Vulkan: %s\n", err.message);
        json_object_set_new(root, "vulkan_error", json_string(err.message));
    } else {
        n = n < MAX_DEVICES ? n : MAX_DEVICES;
        if (!json)
            print_table(infos, n, version);
        for (uint32_t i = 0; i < n; i++)
            json_array_append_new(devs, device_json(&infos[i]));
    }
#else
    if (!json)
        printf("Vulkan: this build has no Vulkan backend (meson setup -Dvulkan=enabled)\n");
    json_object_set_new(root, "vulkan_error", json_string("this build has no Vulkan backend"));
#endif
    json_object_set_new(root, "devices", devs);

    choice ch;
    choose(backend, (int)device, &ch);
    json_t *jb = json_pack("{s:s, s:o, s:o, s:s}", "requested", backend, "selected",
                           ch.selected ? json_string(ch.selected) : json_null(), "device",
                           ch.device >= 0 ? json_integer(ch.device) : json_null(), "detail", ch.detail);
    json_object_set_new(root, "backend", jb);
    if (json) {
        char *s = json_dumps(root, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    } else if (ch.selected && strcmp(ch.selected, "vulkan") == 0) {
        printf("--backend %s: %s\n", backend, ch.detail);
    } else if (ch.selected) {
        printf("--backend %s: cpu (%s)\n", backend, ch.detail);
    }
    json_decref(root);
    if (!ch.selected) {
        fprintf(stderr, "tunebench %s: --backend %s: %s\n", CMD, backend, ch.detail);
        return TB_EXIT_USAGE;
    }
    return TB_EXIT_OK;
}
