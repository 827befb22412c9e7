/*
 * main.c: the servesim binary: one subcommand per job (DESIGN.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    {"run", cmd_run, "simulate one scenario (the embedded default when none is given)"},
    {"replay", cmd_replay, "replay a request trace (any CSV columns, or a vllm bench serve result)"},
    {"step", cmd_step, "time one step of a model on a GPU, with its breakdown"},
    {"validate", cmd_validate, "compare with measured vLLM runs (experiment folders, vllm bench serve results)"},
    {"calibrate", cmd_calibrate, "fit a GPU's step-time constants to measured runs; write a hardware profile"},
    {"sweep", cmd_sweep, "run a grid of scenarios in parallel, one row per point"},
    {"merge", cmd_merge, "join the outputs of sweep shards into one file"},
    {"plan", cmd_plan, "capacity planning: highest rate within SLOs, replicas, cost, report"},
    {"list", cmd_list, "list built-in models (with Hugging Face ids) and hardware"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: servesim COMMAND [ARGS...]\n\n"
                 "A discrete-event simulator of an LLM inference server that behaves like vLLM V1.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'servesim COMMAND --help' describes a command's flags; 'man servesim' all of them, with the\n"
                 "file formats. Exit codes: 0 ok, 1 simulation error, 2 usage error, 3 bad input data.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("servesim %s\n", SERVESIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "servesim: error: unknown command '%s'\n\n", name);
    usage(stderr);
    return 2;
}
