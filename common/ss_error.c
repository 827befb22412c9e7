/*
 * ss_error.c: the servesim GError domain.
 */
#include "ss_error.h"

G_DEFINE_QUARK(servesim-error-quark, ss_error)

int ss_error_exit_code(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain == SS_ERROR) {
        switch (error->code) {
        case SS_ERROR_SIM:
            return 1;
        case SS_ERROR_USAGE:
            return 2;
        case SS_ERROR_INPUT:
            return 3;
        default:
            return 1;
        }
    }
    if (error->domain == G_OPTION_ERROR)
        return 2;
    return 3;
}
