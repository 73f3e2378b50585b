#pragma once

// The status codes the API answers with (RFC 9110 names).
namespace HttpStatus {
constexpr int Ok = 200;
constexpr int Accepted = 202;
constexpr int MovedPermanently = 301;
constexpr int NotModified = 304;
constexpr int BadRequest = 400;
constexpr int Unauthorized = 401;
constexpr int Forbidden = 403;
constexpr int NotFound = 404;
constexpr int MethodNotAllowed = 405;
constexpr int NotAcceptable = 406;
constexpr int ContentTooLarge = 413;
constexpr int UriTooLong = 414;
constexpr int UnsupportedMediaType = 415;
constexpr int RequestHeaderFieldsTooLarge = 431;
constexpr int InternalServerError = 500;
constexpr int NotImplemented = 501;
constexpr int ServiceUnavailable = 503;
} // namespace HttpStatus
