"""The errors the API answers with, as AWS names them (code, HTTP status, sender or receiver)."""

from __future__ import annotations


class ApiError(Exception):
    """An AWS error response: `ErrorResponse/Error/{Type,Code,Message}` with this HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, sender: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender


def instance_not_found(instance_id: str) -> ApiError:
    return ApiError("DBInstanceNotFound", f"DBInstance {instance_id} not found.", 404)


def cluster_not_found(cluster_id: str) -> ApiError:
    return ApiError("DBClusterNotFoundFault", f"DBCluster {cluster_id} not found.", 404)


def log_file_not_found(name: str) -> ApiError:
    return ApiError("DBLogFileNotFoundFault", f"DBLogFile {name} not found", 404)


def instance_not_ready(instance_id: str) -> ApiError:
    return ApiError(
        "DBInstanceNotReady", f"DB instance {instance_id} is not in a ready state.", 400
    )


def invalid_parameter(message: str) -> ApiError:
    return ApiError("InvalidParameterValue", message, 400)


def missing_parameter(name: str) -> ApiError:
    return ApiError("MissingParameter", f"The request must contain the parameter {name}", 400)


BINARY_DATA_MESSAGE = "This file contains binary data and should be downloaded instead of viewed."
