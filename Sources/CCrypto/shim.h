// OpenSSL's libcrypto for Swift: AES-256-GCM through EVP, PBKDF2-HMAC-SHA256, HMAC-SHA256,
// RAND_bytes and OPENSSL_cleanse. Nothing else in Lineup does cryptography.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
