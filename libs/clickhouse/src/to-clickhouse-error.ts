import { KauditError } from '@kaudit/errors';

/**
 * ClickHouse error codes that mean "this data or query is wrong", so retrying the same request can
 * never succeed: the caller should dead-letter or report, not retry.
 * (27 CANNOT_PARSE_INPUT_ASSERTION_FAILED, 26 CANNOT_PARSE_QUOTED_STRING, 6 CANNOT_PARSE_TEXT,
 * 41 CANNOT_PARSE_DATETIME, 69 ARGUMENT_OUT_OF_BOUND, 53 TYPE_MISMATCH, 62 SYNTAX_ERROR,
 * 60 UNKNOWN_TABLE, 16 NO_SUCH_COLUMN_IN_TABLE, 117 INCORRECT_DATA, 70 CANNOT_CONVERT_TYPE,
 * 72 CANNOT_PARSE_NUMBER, 38 CANNOT_PARSE_DATE, 131 TOO_LARGE_STRING_SIZE, 47 UNKNOWN_IDENTIFIER,
 * 81 UNKNOWN_DATABASE, 36 BAD_ARGUMENTS, 43 ILLEGAL_TYPE_OF_ARGUMENT, 1001 STD_EXCEPTION)
 */
const DATA_ERROR_CODES = new Set([
  '6', '16', '26', '27', '36', '38', '41', '43', '47', '53', '60', '62', '69', '70', '72', '81', '117', '131',
]);

/**
 * Node's codes for a certificate the client does not trust or that does not name the host: a
 * configuration problem that retrying cannot fix. (OpenSSL alerts from the server, e.g. a required
 * or refused client certificate, arrive as ERR_SSL_*.)
 */
const TLS_ERROR_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE',
  'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID', 'EPROTO',
]);

function isTlsFailure(code: string | undefined): boolean {
  return code !== undefined && (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'));
}

/**
 * Classifies a @clickhouse/client failure: CLICKHOUSE_TLS_FAILED (handshake refused, fix the
 * certificates), CLICKHOUSE_REJECTED (bad data/query) or CLICKHOUSE_UNAVAILABLE (retry).
 */
export function toClickHouseError(err: unknown, what: string): KauditError {
  if (err instanceof KauditError) return err;
  const e = err as { code?: unknown; message?: unknown; type?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (isTlsFailure(code)) {
    return new KauditError('CLICKHOUSE_TLS_FAILED', `${what}: TLS handshake with ClickHouse failed (${code}: ${message}); check CLICKHOUSE_CA_FILE (the CA that signed the server certificate), CLICKHOUSE_CERT_FILE/CLICKHOUSE_KEY_FILE and the host name in CLICKHOUSE_URL`, {
      cause: err,
      details: { tlsCode: code },
    });
  }
  if (code !== undefined && DATA_ERROR_CODES.has(code)) {
    return new KauditError('CLICKHOUSE_REJECTED', `${what}: ${message}`, { cause: err, details: { clickhouseCode: code } });
  }
  return new KauditError('CLICKHOUSE_UNAVAILABLE', `${what}: ${message}`, { cause: err, ...(code ? { details: { clickhouseCode: code } } : {}) });
}
