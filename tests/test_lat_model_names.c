/*
 * test_lat_model_names.c: which config a model argument names: bundled
 * names and Hugging Face ids in any case, the ids' last part, a config.json
 * path, a local snapshot folder, a hub cache folder and an id found in the
 * hub cache; unknown names with the nearest bundled ones.
 */
#include <glib/gstdio.h>
#include <stdlib.h>

#include "lat.h"
#include "ss_error.h"
#include "ss_test.h"

/* The bundled name `arg` resolves to (g_free), or NULL with *message. */
static char *resolve(const char *arg, char **message)
{
    char *path = NULL, *name = NULL;
    GError *error = NULL;
    if (!lat_model_resolve(arg, ss_test_data_dir(), &path, &name, &error)) {
        if (message)
            *message = g_strdup(error->message);
        g_clear_error(&error);
        return NULL;
    }
    CU_ASSERT(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_free(path);
    return name;
}

static void expect(const char *arg, const char *bundled)
{
    char *m = NULL;
    char *name = resolve(arg, &m);
    if (!name || strcmp(name, bundled) != 0)
        fprintf(stderr, "\n  %s: expected %s, got %s (%s)\n", arg, bundled, name ? name : "nothing", m ? m : "");
    CU_ASSERT(name && strcmp(name, bundled) == 0);
    g_free(name);
    g_free(m);
}

static void test_names_and_ids(void)
{
    expect("llama-3.1-8b-instruct", "llama-3.1-8b-instruct");
    expect("Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct");
    expect("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct");
    expect("META-LLAMA/LLAMA-3.1-8B-INSTRUCT", "llama-3.1-8b-instruct");
    expect("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct"); /* an "also" id */
    expect("Qwen/Qwen3-Next-80B-A3B-Thinking", "qwen3-next-80b-a3b");
    expect("RedHatAI/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic", "llama-4-scout-17b-16e-instruct-fp8-dynamic");
    expect("someone/Qwen3-8B", "qwen3-8b"); /* the id's last part is a bundled name */
    /* every bundled model with an id resolves by it */
    char **names = lat_model_list(ss_test_data_dir());
    guint with_id = 0;
    for (char **n = names; *n; n++) {
        char *id = lat_model_hf_id(ss_test_data_dir(), *n);
        if (id) {
            expect(id, *n);
            with_id++;
        }
        g_free(id);
    }
    CU_ASSERT(with_id >= 25);
    g_strfreev(names);
}

static void test_unknown(void)
{
    char *m = NULL;
    CU_ASSERT_PTR_NULL(resolve("meta-llama/Llama-3.2-8B-Instruct", &m));
    SS_ASSERT_CONTAINS(m, "unknown model 'meta-llama/Llama-3.2-8B-Instruct' (nearest: llama-3.1-8b-instruct "
                          "(meta-llama/Llama-3.1-8B-Instruct)");
    SS_ASSERT_CONTAINS(m, "--model-config PATH loads any config.json or model folder");
    g_free(m);
    GError *error = NULL;
    char *p = NULL, *n = NULL;
    CU_ASSERT_FALSE(lat_model_resolve("qwen3-9b", ss_test_data_dir(), &p, &n, &error));
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
    SS_ASSERT_CONTAINS(error->message, "nearest: qwen3-8b (Qwen/Qwen3-8B)");
    g_clear_error(&error);
    /* a path that does not exist is bad input, not an unknown name */
    CU_ASSERT_FALSE(lat_model_resolve("./no/such/config.json", ss_test_data_dir(), &p, &n, &error));
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    SS_ASSERT_CONTAINS(error->message, "./no/such/config.json: no such file or folder");
    g_clear_error(&error);
    CU_ASSERT_FALSE(lat_model_resolve("", ss_test_data_dir(), &p, &n, &error));
    g_clear_error(&error);
}

/* Copies a bundled config into `dir`/config.json. */
static void copy_config(const char *bundled, const char *dir)
{
    char *src = g_build_filename(ss_test_data_dir(), "models", bundled, "config.json", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(src, &text, NULL, NULL));
    CU_ASSERT_FATAL(g_mkdir_with_parents(dir, 0755) == 0);
    char *dst = g_build_filename(dir, "config.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(dst, text, -1, NULL));
    g_free(dst);
    g_free(text);
    g_free(src);
}

static void test_paths_and_hub_cache(void)
{
    char *tmp = ss_test_tmpdir();
    /* a local snapshot folder and its config.json */
    char *snap = g_build_filename(tmp, "my-finetune", NULL);
    copy_config("qwen3-8b", snap);
    char *name = resolve(snap, NULL);
    CU_ASSERT_STRING_EQUAL(name, "my-finetune");
    g_free(name);
    char *cfg = g_build_filename(snap, "config.json", NULL);
    LatModelDesc *m = lat_model_desc_load(cfg, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->num_layers, 36);
    lat_model_desc_free(m);
    /* a hub cache: models--ORG--NAME/snapshots/HASH with refs/main */
    char *hub = g_build_filename(tmp, "hub", NULL);
    char *repo = g_build_filename(hub, "models--acme--Tiny-Chat-7B", NULL);
    char *s1 = g_build_filename(repo, "snapshots", "aaa111", NULL);
    char *s2 = g_build_filename(repo, "snapshots", "bbb222", NULL);
    copy_config("mistral-7b-v0.1", s1);
    copy_config("qwen2.5-7b-instruct", s2);
    char *refs = g_build_filename(repo, "refs", NULL);
    CU_ASSERT_FATAL(g_mkdir_with_parents(refs, 0755) == 0);
    char *main_ref = g_build_filename(refs, "main", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(main_ref, "bbb222\n", -1, NULL));
    g_setenv("HF_HUB_CACHE", hub, TRUE);
    char *path = NULL;
    GError *error = NULL;
    CU_ASSERT_FATAL(lat_model_resolve("ACME/tiny-chat-7b", ss_test_data_dir(), &path, &name, &error));
    CU_ASSERT(g_str_has_suffix(path, "bbb222/config.json"));
    CU_ASSERT_STRING_EQUAL(name, "ACME/tiny-chat-7b");
    g_free(path);
    g_free(name);
    /* the repository folder itself, and a snapshot folder (named after its repository) */
    CU_ASSERT_FATAL(lat_model_resolve(repo, NULL, &path, &name, &error));
    CU_ASSERT(g_str_has_suffix(path, "bbb222/config.json"));
    CU_ASSERT_STRING_EQUAL(name, "acme/Tiny-Chat-7B");
    g_free(path);
    g_free(name);
    /* two snapshots and no refs/main: which one is ambiguous */
    g_unlink(main_ref);
    CU_ASSERT_FALSE(lat_model_resolve(repo, NULL, &path, &name, &error));
    SS_ASSERT_CONTAINS(error ? error->message : NULL, "expected one snapshot or refs/main");
    g_clear_error(&error);
    /* a folder without a config */
    CU_ASSERT_FALSE(lat_model_resolve(tmp, NULL, &path, &name, &error));
    SS_ASSERT_CONTAINS(error ? error->message : NULL, "expected a model folder with a config.json");
    g_clear_error(&error);
    g_unsetenv("HF_HUB_CACHE");
    g_free(refs);
    g_free(main_ref);
    g_free(s1);
    g_free(s2);
    g_free(repo);
    g_free(hub);
    g_free(cfg);
    g_free(snap);
    g_free(tmp);
}

static const SsTestCase cases[] = {
    {"bundled names and Hugging Face ids", test_names_and_ids},
    {"unknown names and missing paths", test_unknown},
    {"config paths, snapshot folders, the hub cache", test_paths_and_hub_cache},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"model_names", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
