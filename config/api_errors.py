"""The API's one error shape, {"code", "message", "fields"}: the exception handler and its schema.

Every error an endpoint can answer with goes through `api_exception_handler` (set as
REST_FRAMEWORK["EXCEPTION_HANDLER"]): DomainError from a service, validation errors, 401, 403, 404,
405, 415 and 429. `ErrorDocumentingAutoSchema` writes the same shape into the OpenAPI schema, so
clients (and the schemathesis run) can rely on it.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.errors import DomainError

NON_FIELD_KEY = api_settings.NON_FIELD_ERRORS_KEY


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. out_of_stock, not_found.")
    message = serializers.CharField(help_text="What went wrong, in words for the shopper.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (non_field_errors for the whole input); empty otherwise.",
    )


def _flatten(detail, prefix=""):
    """DRF's nested error detail as {"field" or "field.sub" or "items.0.field": [messages]}."""
    flat = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            flat[prefix or NON_FIELD_KEY] = [force_str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or NON_FIELD_KEY] = [force_str(detail)]
    return flat


def _first_code(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


def error_response(*, code, message, fields=None, status_code=status.HTTP_400_BAD_REQUEST, headers=None):
    return Response(
        {"code": code, "message": force_str(message), "fields": fields or {}},
        status=status_code,
        headers=headers,
    )


def api_exception_handler(exc, context):
    """Turn any expected exception into the one error shape; anything else stays a 500 (and is logged)."""
    if isinstance(exc, DomainError):
        fields = {exc.field: [force_str(exc.message)]} if exc.field else {}
        return error_response(code=exc.code or "invalid", message=exc.message, fields=fields)
    if isinstance(exc, DjangoValidationError):
        # A service's full_clean(): same shape as a serializer's errors.
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_KEY: exc.messages}
        exc = exceptions.ValidationError(
            detail={k.replace("__all__", NON_FIELD_KEY): v for k, v in detail.items()}
        )
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.get(NON_FIELD_KEY)
        message = non_field[0] if non_field and len(fields) == 1 else _("请检查输入的内容。")
        return error_response(code=_first_code(exc.detail), message=message, fields=fields)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF answers 403 when the first authentication class (the session) has no challenge;
        # clients need to tell "log in" (401) from "not yours" (403), so the token scheme is offered.
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        headers["WWW-Authenticate"] = 'Token realm="api"'
        code = (
            "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
        )
        message = _("请先登录。") if code == "not_authenticated" else _("登录凭据无效或已失效。")
        return error_response(code=code, message=message, status_code=401, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + (exc.wait % 1 > 0))
            message = _("请求过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": headers["Retry-After"]}
        else:
            message = _("请求过于频繁，请稍后再试。")
        return error_response(code="throttled", message=message, status_code=429, headers=headers)
    if isinstance(exc, exceptions.NotFound):
        return error_response(code="not_found", message=_("找不到该内容。"), status_code=404)
    if isinstance(exc, exceptions.PermissionDenied):
        if str(exc.detail).startswith("CSRF Failed"):
            # A session (browser) request without the CSRF token; token clients never see this.
            return error_response(
                code="csrf_failed", message=_("安全校验失败，请刷新页面后重试。"), status_code=403
            )
        return error_response(code="permission_denied", message=_("没有权限执行此操作。"), status_code=403)
    if isinstance(exc, exceptions.MethodNotAllowed):
        headers["Allow"] = ", ".join(context["view"].allowed_methods) if context.get("view") else ""
        return error_response(
            code="method_not_allowed", message=_("不支持该请求方法。"), status_code=405, headers=headers
        )
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(
            code="unsupported_media_type", message=_("不支持的请求内容类型。"), status_code=415
        )
    if isinstance(exc, exceptions.NotAcceptable):
        return error_response(code="not_acceptable", message=_("无法提供所请求的内容格式。"), status_code=406)
    if isinstance(exc, exceptions.ParseError):
        return error_response(code="parse_error", message=_("请求内容格式错误。"), status_code=400)
    detail = exc.detail if isinstance(exc.detail, str) else _("请求无法处理。")
    return error_response(
        code=exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
        message=detail,
        status_code=exc.status_code,
    )


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses (in the one shape) an operation can give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        method = self.method.upper()
        writes = method in ("POST", "PUT", "PATCH", "DELETE")
        codes = {
            "401": "Not logged in, or the token is invalid",
            "403": "Not allowed (e.g. missing CSRF token on a session request)",
            "429": "Too many requests: wait as long as Retry-After says",
        }
        if (
            writes
            or self._get_filter_parameters()
            or self._get_pagination_parameters()
            or self.get_override_parameters()
        ):
            codes["400"] = "Invalid input, or a business rule refused it (see code)"
        if writes or "{" in self.path or self._get_pagination_parameters():
            codes["404"] = "Not found (or not yours)"
        for code, description in codes.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code] = {**body, "description": description}
        return responses
