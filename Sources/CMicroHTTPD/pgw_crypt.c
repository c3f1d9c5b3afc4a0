#include "pgw_mhd.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

/* bcrypt reads at most 72 bytes and stops at a NUL: a longer password, or one holding a
 * NUL, would match a hash of its prefix, so such passwords never match. */
int pgw_bcrypt_verify(const char *password, size_t password_len, const char *hash) {
    size_t hash_len = strlen(hash);
    if (hash_len != 60 || hash[0] != '$' || hash[1] != '2' ||
        (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$') {
        return -1;
    }
    if (password_len > 72 || memchr(password, '\0', password_len) != NULL) return 0;
    char text[73];
    memcpy(text, password, password_len);
    text[password_len] = '\0';
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL) return -1;
    const char *out = crypt_r(text, hash, data);
    int result;
    if (out == NULL || out[0] == '*' || strlen(out) != hash_len) {
        result = -1;
    } else {
        unsigned char diff = 0;
        for (size_t i = 0; i < hash_len; i++) diff |= (unsigned char)(out[i] ^ hash[i]);
        result = diff == 0 ? 1 : 0;
    }
    explicit_bzero(text, sizeof text);
    explicit_bzero(data, sizeof *data);
    free(data);
    return result;
}
