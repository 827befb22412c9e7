# bash completion for servesim.
#
# Installed as share/bash-completion/completions/servesim (loaded on demand by
# bash-completion), or source it from ~/.bashrc. It asks the servesim being
# completed for what it knows, so it never goes stale: the commands from
# `servesim --help`, each command's flags from `servesim COMMAND --help`, model
# names and Hugging Face ids from `servesim list models --names`, GPU names
# from `servesim list hardware --names`. Answers are cached per shell.

_servesim_cache_get()
{
    # $1: cache key; $2...: the command whose output fills it
    local key=$1
    shift
    local var="_servesim_cache_${key//[^a-zA-Z0-9_]/_}"
    if [[ -z ${!var+set} ]]; then
        printf -v "$var" '%s' "$("$@" 2>/dev/null)"
    fi
    printf '%s' "${!var}"
}

_servesim_commands()
{
    _servesim_cache_get commands "$1" --help |
        awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'
}

_servesim_flags()
{
    _servesim_cache_get "flags_$2" "$1" "$2" --help |
        grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*'
    printf '%s\n' --help
}

_servesim()
{
    local cur prev bin cmd i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    bin=${COMP_WORDS[0]}
    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]}
            break
        fi
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$(_servesim_commands "$bin") --help --version" -- "$cur"))
        return 0
    fi
    case $prev in
    --model)
        COMPREPLY=($(compgen -W "$(_servesim_cache_get models "$bin" list models --names)" -- "$cur"))
        compopt -o filenames 2>/dev/null
        COMPREPLY+=($(compgen -f -- "$cur"))
        return 0
        ;;
    --hardware)
        COMPREPLY=($(compgen -W "$(_servesim_cache_get hardware "$bin" list hardware --names)" -- "$cur"))
        return 0
        ;;
    --latency-model)
        COMPREPLY=($(compgen -W "roofline-v2 roofline-v1 auto" -- "$cur"))
        return 0
        ;;
    --format)
        if [[ $cmd == replay ]]; then
            COMPREPLY=($(compgen -W "auto servesim azure vidur vllm-bench" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "csv json" -- "$cur"))
        fi
        return 0
        ;;
    --router)
        COMPREPLY=($(compgen -W "round-robin random least-outstanding least-waiting least-kv vllm-dp prefix-affinity consistent-hash weighted" -- "$cur"))
        return 0
        ;;
    --quantization)
        COMPREPLY=($(compgen -W "fp8 fbgemm_fp8 modelopt awq awq_marlin gptq gptq_marlin compressed-tensors" -- "$cur"))
        return 0
        ;;
    --kv-cache-dtype)
        COMPREPLY=($(compgen -W "auto bfloat16 float16 fp8 fp8_e4m3 fp8_e5m2" -- "$cur"))
        return 0
        ;;
    --scheduling-policy)
        COMPREPLY=($(compgen -W "fcfs priority" -- "$cur"))
        return 0
        ;;
    --kv-offloading-backend)
        COMPREPLY=($(compgen -W "native lmcache" -- "$cur"))
        return 0
        ;;
    --pd-decider)
        COMPREPLY=($(compgen -W "always never prompt-length prefix-miss" -- "$cur"))
        return 0
        ;;
    --kv-link)
        COMPREPLY=($(compgen -W "nvlink rdma-400 rdma-200 pcie tcp-100 tcp-25" -- "$cur"))
        return 0
        ;;
    --autoscale)
        COMPREPLY=($(compgen -W "'{\"metric\":\"waiting\",\"target\":8,\"min_replicas\":1,\"max_replicas\":8}'" -- "$cur"))
        return 0
        ;;
    --scorer-weight)
        COMPREPLY=($(compgen -W "prefix= queue= kv= lora=" -- "$cur"))
        compopt -o nospace 2>/dev/null
        return 0
        ;;
    --time-format)
        COMPREPLY=($(compgen -W "auto seconds milliseconds epoch-s epoch-ms epoch-us epoch-ns iso8601" -- "$cur"))
        return 0
        ;;
    --data-dir | --output-dir)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        return 0
        ;;
    --model-config | --scenario | --output | -o | --output-json | --output-requests | --output-timeseries | \
        --output-itl | --output-routing | --output-transfers | --output-scaling | --output-scaling-html | --html)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_servesim_flags "$bin" "$cmd")" -- "$cur"))
        return 0
    fi
    if [[ $cmd == list ]]; then
        COMPREPLY=($(compgen -W "models hardware" -- "$cur"))
        return 0
    fi
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
}

complete -F _servesim servesim
