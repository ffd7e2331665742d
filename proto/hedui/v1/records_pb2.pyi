from hedui.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Relation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELATION_UNSPECIFIED: _ClassVar[Relation]
    RELATION_SELF: _ClassVar[Relation]
    RELATION_SPOUSE: _ClassVar[Relation]
    RELATION_CHILD: _ClassVar[Relation]
    RELATION_PARENT: _ClassVar[Relation]
    RELATION_SIBLING: _ClassVar[Relation]
    RELATION_GRANDPARENT: _ClassVar[Relation]
    RELATION_GRANDCHILD: _ClassVar[Relation]
    RELATION_OTHER: _ClassVar[Relation]
RELATION_UNSPECIFIED: Relation
RELATION_SELF: Relation
RELATION_SPOUSE: Relation
RELATION_CHILD: Relation
RELATION_PARENT: Relation
RELATION_SIBLING: Relation
RELATION_GRANDPARENT: Relation
RELATION_GRANDCHILD: Relation
RELATION_OTHER: Relation

class DepartmentRecord(_message.Message):
    __slots__ = ("public_security", "housing", "human_resources", "civil_affairs", "banks", "provident_fund", "market_regulation", "tax")
    PUBLIC_SECURITY_FIELD_NUMBER: _ClassVar[int]
    HOUSING_FIELD_NUMBER: _ClassVar[int]
    HUMAN_RESOURCES_FIELD_NUMBER: _ClassVar[int]
    CIVIL_AFFAIRS_FIELD_NUMBER: _ClassVar[int]
    BANKS_FIELD_NUMBER: _ClassVar[int]
    PROVIDENT_FUND_FIELD_NUMBER: _ClassVar[int]
    MARKET_REGULATION_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    public_security: PublicSecurityRecord
    housing: HousingRecord
    human_resources: HumanResourcesRecord
    civil_affairs: CivilAffairsRecord
    banks: BanksRecord
    provident_fund: ProvidentFundRecord
    market_regulation: MarketRegulationRecord
    tax: TaxRecord
    def __init__(self, public_security: _Optional[_Union[PublicSecurityRecord, _Mapping]] = ..., housing: _Optional[_Union[HousingRecord, _Mapping]] = ..., human_resources: _Optional[_Union[HumanResourcesRecord, _Mapping]] = ..., civil_affairs: _Optional[_Union[CivilAffairsRecord, _Mapping]] = ..., banks: _Optional[_Union[BanksRecord, _Mapping]] = ..., provident_fund: _Optional[_Union[ProvidentFundRecord, _Mapping]] = ..., market_regulation: _Optional[_Union[MarketRegulationRecord, _Mapping]] = ..., tax: _Optional[_Union[TaxRecord, _Mapping]] = ...) -> None: ...

class PublicSecurityRecord(_message.Message):
    __slots__ = ("household_registration", "vehicles")
    HOUSEHOLD_REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    household_registration: HouseholdRegistration
    vehicles: _containers.RepeatedCompositeFieldContainer[Vehicle]
    def __init__(self, household_registration: _Optional[_Union[HouseholdRegistration, _Mapping]] = ..., vehicles: _Optional[_Iterable[_Union[Vehicle, _Mapping]]] = ...) -> None: ...

class HouseholdRegistration(_message.Message):
    __slots__ = ("hukou_number", "region_code", "relation_to_head", "members", "moves", "deceased", "death_date")
    HUKOU_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    RELATION_TO_HEAD_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MOVES_FIELD_NUMBER: _ClassVar[int]
    DECEASED_FIELD_NUMBER: _ClassVar[int]
    DEATH_DATE_FIELD_NUMBER: _ClassVar[int]
    hukou_number: str
    region_code: str
    relation_to_head: Relation
    members: _containers.RepeatedCompositeFieldContainer[HukouMember]
    moves: _containers.RepeatedCompositeFieldContainer[HukouMove]
    deceased: bool
    death_date: _common_pb2.Date
    def __init__(self, hukou_number: _Optional[str] = ..., region_code: _Optional[str] = ..., relation_to_head: _Optional[_Union[Relation, str]] = ..., members: _Optional[_Iterable[_Union[HukouMember, _Mapping]]] = ..., moves: _Optional[_Iterable[_Union[HukouMove, _Mapping]]] = ..., deceased: _Optional[bool] = ..., death_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class HukouMember(_message.Message):
    __slots__ = ("id_number", "name", "relation_to_head")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATION_TO_HEAD_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    relation_to_head: Relation
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., relation_to_head: _Optional[_Union[Relation, str]] = ...) -> None: ...

class HukouMove(_message.Message):
    __slots__ = ("date", "from_region_code", "to_region_code")
    DATE_FIELD_NUMBER: _ClassVar[int]
    FROM_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.Date
    from_region_code: str
    to_region_code: str
    def __init__(self, date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., from_region_code: _Optional[str] = ..., to_region_code: _Optional[str] = ...) -> None: ...

class Vehicle(_message.Message):
    __slots__ = ("kind", "plate", "displacement_ml", "purchase_date", "purchase_price_fen", "status", "assessed_value_fen")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Vehicle.Kind]
        KIND_PASSENGER_CAR: _ClassVar[Vehicle.Kind]
        KIND_MOTORCYCLE: _ClassVar[Vehicle.Kind]
        KIND_TRUCK: _ClassVar[Vehicle.Kind]
        KIND_LOW_SPEED: _ClassVar[Vehicle.Kind]
        KIND_OTHER: _ClassVar[Vehicle.Kind]
    KIND_UNSPECIFIED: Vehicle.Kind
    KIND_PASSENGER_CAR: Vehicle.Kind
    KIND_MOTORCYCLE: Vehicle.Kind
    KIND_TRUCK: Vehicle.Kind
    KIND_LOW_SPEED: Vehicle.Kind
    KIND_OTHER: Vehicle.Kind
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Vehicle.Status]
        STATUS_REGISTERED: _ClassVar[Vehicle.Status]
        STATUS_SCRAPPED: _ClassVar[Vehicle.Status]
        STATUS_TRANSFERRED: _ClassVar[Vehicle.Status]
        STATUS_STOLEN: _ClassVar[Vehicle.Status]
    STATUS_UNSPECIFIED: Vehicle.Status
    STATUS_REGISTERED: Vehicle.Status
    STATUS_SCRAPPED: Vehicle.Status
    STATUS_TRANSFERRED: Vehicle.Status
    STATUS_STOLEN: Vehicle.Status
    KIND_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    DISPLACEMENT_ML_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_DATE_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_VALUE_FEN_FIELD_NUMBER: _ClassVar[int]
    kind: Vehicle.Kind
    plate: str
    displacement_ml: int
    purchase_date: _common_pb2.Date
    purchase_price_fen: int
    status: Vehicle.Status
    assessed_value_fen: int
    def __init__(self, kind: _Optional[_Union[Vehicle.Kind, str]] = ..., plate: _Optional[str] = ..., displacement_ml: _Optional[int] = ..., purchase_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., purchase_price_fen: _Optional[int] = ..., status: _Optional[_Union[Vehicle.Status, str]] = ..., assessed_value_fen: _Optional[int] = ...) -> None: ...

class HousingRecord(_message.Message):
    __slots__ = ("properties", "benefits")
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    properties: _containers.RepeatedCompositeFieldContainer[Property]
    benefits: _containers.RepeatedCompositeFieldContainer[HousingBenefit]
    def __init__(self, properties: _Optional[_Iterable[_Union[Property, _Mapping]]] = ..., benefits: _Optional[_Iterable[_Union[HousingBenefit, _Mapping]]] = ...) -> None: ...

class Property(_message.Message):
    __slots__ = ("certificate_id", "address", "floor_area_m2", "nature", "share_percent", "acquired_on", "assessed_value_fen")
    class Nature(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NATURE_UNSPECIFIED: _ClassVar[Property.Nature]
        NATURE_RESIDENTIAL: _ClassVar[Property.Nature]
        NATURE_NON_RESIDENTIAL: _ClassVar[Property.Nature]
    NATURE_UNSPECIFIED: Property.Nature
    NATURE_RESIDENTIAL: Property.Nature
    NATURE_NON_RESIDENTIAL: Property.Nature
    CERTIFICATE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FLOOR_AREA_M2_FIELD_NUMBER: _ClassVar[int]
    NATURE_FIELD_NUMBER: _ClassVar[int]
    SHARE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ACQUIRED_ON_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_VALUE_FEN_FIELD_NUMBER: _ClassVar[int]
    certificate_id: str
    address: str
    floor_area_m2: float
    nature: Property.Nature
    share_percent: float
    acquired_on: _common_pb2.Date
    assessed_value_fen: int
    def __init__(self, certificate_id: _Optional[str] = ..., address: _Optional[str] = ..., floor_area_m2: _Optional[float] = ..., nature: _Optional[_Union[Property.Nature, str]] = ..., share_percent: _Optional[float] = ..., acquired_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., assessed_value_fen: _Optional[int] = ...) -> None: ...

class HousingBenefit(_message.Message):
    __slots__ = ("programme", "monthly_amount_fen", "period")
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    programme: str
    monthly_amount_fen: int
    period: _common_pb2.Period
    def __init__(self, programme: _Optional[str] = ..., monthly_amount_fen: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ...) -> None: ...

class HumanResourcesRecord(_message.Message):
    __slots__ = ("insurance", "wages", "pensions", "unemployment_benefits", "employment")
    INSURANCE_FIELD_NUMBER: _ClassVar[int]
    WAGES_FIELD_NUMBER: _ClassVar[int]
    PENSIONS_FIELD_NUMBER: _ClassVar[int]
    UNEMPLOYMENT_BENEFITS_FIELD_NUMBER: _ClassVar[int]
    EMPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    insurance: _containers.RepeatedCompositeFieldContainer[InsuranceEnrolment]
    wages: _containers.RepeatedCompositeFieldContainer[WagePayment]
    pensions: _containers.RepeatedCompositeFieldContainer[Pension]
    unemployment_benefits: _containers.RepeatedCompositeFieldContainer[UnemploymentBenefit]
    employment: EmploymentRegistration
    def __init__(self, insurance: _Optional[_Iterable[_Union[InsuranceEnrolment, _Mapping]]] = ..., wages: _Optional[_Iterable[_Union[WagePayment, _Mapping]]] = ..., pensions: _Optional[_Iterable[_Union[Pension, _Mapping]]] = ..., unemployment_benefits: _Optional[_Iterable[_Union[UnemploymentBenefit, _Mapping]]] = ..., employment: _Optional[_Union[EmploymentRegistration, _Mapping]] = ...) -> None: ...

class InsuranceEnrolment(_message.Message):
    __slots__ = ("scheme", "employer", "monthly_contribution_base_fen", "active", "since")
    class Scheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SCHEME_UNSPECIFIED: _ClassVar[InsuranceEnrolment.Scheme]
        SCHEME_PENSION: _ClassVar[InsuranceEnrolment.Scheme]
        SCHEME_MEDICAL: _ClassVar[InsuranceEnrolment.Scheme]
        SCHEME_UNEMPLOYMENT: _ClassVar[InsuranceEnrolment.Scheme]
        SCHEME_WORK_INJURY: _ClassVar[InsuranceEnrolment.Scheme]
        SCHEME_MATERNITY: _ClassVar[InsuranceEnrolment.Scheme]
    SCHEME_UNSPECIFIED: InsuranceEnrolment.Scheme
    SCHEME_PENSION: InsuranceEnrolment.Scheme
    SCHEME_MEDICAL: InsuranceEnrolment.Scheme
    SCHEME_UNEMPLOYMENT: InsuranceEnrolment.Scheme
    SCHEME_WORK_INJURY: InsuranceEnrolment.Scheme
    SCHEME_MATERNITY: InsuranceEnrolment.Scheme
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_CONTRIBUTION_BASE_FEN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    scheme: InsuranceEnrolment.Scheme
    employer: str
    monthly_contribution_base_fen: int
    active: bool
    since: _common_pb2.Date
    def __init__(self, scheme: _Optional[_Union[InsuranceEnrolment.Scheme, str]] = ..., employer: _Optional[str] = ..., monthly_contribution_base_fen: _Optional[int] = ..., active: _Optional[bool] = ..., since: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class WagePayment(_message.Message):
    __slots__ = ("employer", "month", "amount_fen")
    EMPLOYER_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    employer: str
    month: _common_pb2.Date
    amount_fen: int
    def __init__(self, employer: _Optional[str] = ..., month: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class Pension(_message.Message):
    __slots__ = ("scheme", "monthly_amount_fen", "since")
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    scheme: str
    monthly_amount_fen: int
    since: _common_pb2.Date
    def __init__(self, scheme: _Optional[str] = ..., monthly_amount_fen: _Optional[int] = ..., since: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class UnemploymentBenefit(_message.Message):
    __slots__ = ("monthly_amount_fen", "period")
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    monthly_amount_fen: int
    period: _common_pb2.Period
    def __init__(self, monthly_amount_fen: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ...) -> None: ...

class EmploymentRegistration(_message.Message):
    __slots__ = ("status", "since")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[EmploymentRegistration.Status]
        STATUS_EMPLOYED: _ClassVar[EmploymentRegistration.Status]
        STATUS_REGISTERED_UNEMPLOYED: _ClassVar[EmploymentRegistration.Status]
        STATUS_NOT_REGISTERED: _ClassVar[EmploymentRegistration.Status]
    STATUS_UNSPECIFIED: EmploymentRegistration.Status
    STATUS_EMPLOYED: EmploymentRegistration.Status
    STATUS_REGISTERED_UNEMPLOYED: EmploymentRegistration.Status
    STATUS_NOT_REGISTERED: EmploymentRegistration.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    status: EmploymentRegistration.Status
    since: _common_pb2.Date
    def __init__(self, status: _Optional[_Union[EmploymentRegistration.Status, str]] = ..., since: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class CivilAffairsRecord(_message.Message):
    __slots__ = ("marriage", "assistance_payments", "ngo_registrations")
    MARRIAGE_FIELD_NUMBER: _ClassVar[int]
    ASSISTANCE_PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    NGO_REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    marriage: Marriage
    assistance_payments: _containers.RepeatedCompositeFieldContainer[AssistancePayment]
    ngo_registrations: _containers.RepeatedCompositeFieldContainer[NgoRegistration]
    def __init__(self, marriage: _Optional[_Union[Marriage, _Mapping]] = ..., assistance_payments: _Optional[_Iterable[_Union[AssistancePayment, _Mapping]]] = ..., ngo_registrations: _Optional[_Iterable[_Union[NgoRegistration, _Mapping]]] = ...) -> None: ...

class Marriage(_message.Message):
    __slots__ = ("status", "spouse_id_number", "spouse_name", "since")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Marriage.Status]
        STATUS_SINGLE: _ClassVar[Marriage.Status]
        STATUS_MARRIED: _ClassVar[Marriage.Status]
        STATUS_DIVORCED: _ClassVar[Marriage.Status]
        STATUS_WIDOWED: _ClassVar[Marriage.Status]
    STATUS_UNSPECIFIED: Marriage.Status
    STATUS_SINGLE: Marriage.Status
    STATUS_MARRIED: Marriage.Status
    STATUS_DIVORCED: Marriage.Status
    STATUS_WIDOWED: Marriage.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SPOUSE_ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SPOUSE_NAME_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    status: Marriage.Status
    spouse_id_number: str
    spouse_name: str
    since: _common_pb2.Date
    def __init__(self, status: _Optional[_Union[Marriage.Status, str]] = ..., spouse_id_number: _Optional[str] = ..., spouse_name: _Optional[str] = ..., since: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class AssistancePayment(_message.Message):
    __slots__ = ("programme", "monthly_amount_fen", "period")
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    programme: str
    monthly_amount_fen: int
    period: _common_pb2.Period
    def __init__(self, programme: _Optional[str] = ..., monthly_amount_fen: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ...) -> None: ...

class NgoRegistration(_message.Message):
    __slots__ = ("name", "registration_number", "role", "registered_on")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    name: str
    registration_number: str
    role: str
    registered_on: _common_pb2.Date
    def __init__(self, name: _Optional[str] = ..., registration_number: _Optional[str] = ..., role: _Optional[str] = ..., registered_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class BanksRecord(_message.Message):
    __slots__ = ("deposits", "securities", "income")
    DEPOSITS_FIELD_NUMBER: _ClassVar[int]
    SECURITIES_FIELD_NUMBER: _ClassVar[int]
    INCOME_FIELD_NUMBER: _ClassVar[int]
    deposits: _containers.RepeatedCompositeFieldContainer[Deposit]
    securities: _containers.RepeatedCompositeFieldContainer[Security]
    income: _containers.RepeatedCompositeFieldContainer[PropertyIncome]
    def __init__(self, deposits: _Optional[_Iterable[_Union[Deposit, _Mapping]]] = ..., securities: _Optional[_Iterable[_Union[Security, _Mapping]]] = ..., income: _Optional[_Iterable[_Union[PropertyIncome, _Mapping]]] = ...) -> None: ...

class Deposit(_message.Message):
    __slots__ = ("institution", "kind", "balance_fen", "as_of")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Deposit.Kind]
        KIND_DEMAND: _ClassVar[Deposit.Kind]
        KIND_TIME: _ClassVar[Deposit.Kind]
    KIND_UNSPECIFIED: Deposit.Kind
    KIND_DEMAND: Deposit.Kind
    KIND_TIME: Deposit.Kind
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    institution: str
    kind: Deposit.Kind
    balance_fen: int
    as_of: _common_pb2.Date
    def __init__(self, institution: _Optional[str] = ..., kind: _Optional[_Union[Deposit.Kind, str]] = ..., balance_fen: _Optional[int] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class Security(_message.Message):
    __slots__ = ("institution", "kind", "market_value_fen", "as_of")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Security.Kind]
        KIND_STOCK: _ClassVar[Security.Kind]
        KIND_FUND: _ClassVar[Security.Kind]
        KIND_BOND: _ClassVar[Security.Kind]
        KIND_WEALTH_PRODUCT: _ClassVar[Security.Kind]
    KIND_UNSPECIFIED: Security.Kind
    KIND_STOCK: Security.Kind
    KIND_FUND: Security.Kind
    KIND_BOND: Security.Kind
    KIND_WEALTH_PRODUCT: Security.Kind
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FEN_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    institution: str
    kind: Security.Kind
    market_value_fen: int
    as_of: _common_pb2.Date
    def __init__(self, institution: _Optional[str] = ..., kind: _Optional[_Union[Security.Kind, str]] = ..., market_value_fen: _Optional[int] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class PropertyIncome(_message.Message):
    __slots__ = ("institution", "kind", "amount_fen", "period")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[PropertyIncome.Kind]
        KIND_INTEREST: _ClassVar[PropertyIncome.Kind]
        KIND_STOCK_DIVIDEND: _ClassVar[PropertyIncome.Kind]
        KIND_BOND_INTEREST: _ClassVar[PropertyIncome.Kind]
        KIND_FUND_DIVIDEND: _ClassVar[PropertyIncome.Kind]
    KIND_UNSPECIFIED: PropertyIncome.Kind
    KIND_INTEREST: PropertyIncome.Kind
    KIND_STOCK_DIVIDEND: PropertyIncome.Kind
    KIND_BOND_INTEREST: PropertyIncome.Kind
    KIND_FUND_DIVIDEND: PropertyIncome.Kind
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    institution: str
    kind: PropertyIncome.Kind
    amount_fen: int
    period: _common_pb2.Period
    def __init__(self, institution: _Optional[str] = ..., kind: _Optional[_Union[PropertyIncome.Kind, str]] = ..., amount_fen: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ...) -> None: ...

class ProvidentFundRecord(_message.Message):
    __slots__ = ("account", "withdrawals", "loans")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    LOANS_FIELD_NUMBER: _ClassVar[int]
    account: ProvidentFundAccount
    withdrawals: _containers.RepeatedCompositeFieldContainer[ProvidentFundWithdrawal]
    loans: _containers.RepeatedCompositeFieldContainer[HousingLoan]
    def __init__(self, account: _Optional[_Union[ProvidentFundAccount, _Mapping]] = ..., withdrawals: _Optional[_Iterable[_Union[ProvidentFundWithdrawal, _Mapping]]] = ..., loans: _Optional[_Iterable[_Union[HousingLoan, _Mapping]]] = ...) -> None: ...

class ProvidentFundAccount(_message.Message):
    __slots__ = ("status", "monthly_contribution_fen", "balance_fen", "opened_on")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[ProvidentFundAccount.Status]
        STATUS_ACTIVE: _ClassVar[ProvidentFundAccount.Status]
        STATUS_SUSPENDED: _ClassVar[ProvidentFundAccount.Status]
        STATUS_CLOSED: _ClassVar[ProvidentFundAccount.Status]
    STATUS_UNSPECIFIED: ProvidentFundAccount.Status
    STATUS_ACTIVE: ProvidentFundAccount.Status
    STATUS_SUSPENDED: ProvidentFundAccount.Status
    STATUS_CLOSED: ProvidentFundAccount.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_CONTRIBUTION_FEN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    OPENED_ON_FIELD_NUMBER: _ClassVar[int]
    status: ProvidentFundAccount.Status
    monthly_contribution_fen: int
    balance_fen: int
    opened_on: _common_pb2.Date
    def __init__(self, status: _Optional[_Union[ProvidentFundAccount.Status, str]] = ..., monthly_contribution_fen: _Optional[int] = ..., balance_fen: _Optional[int] = ..., opened_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ProvidentFundWithdrawal(_message.Message):
    __slots__ = ("date", "amount_fen", "reason")
    DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.Date
    amount_fen: int
    reason: str
    def __init__(self, date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., amount_fen: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class HousingLoan(_message.Message):
    __slots__ = ("outstanding_fen", "monthly_repayment_fen", "period")
    OUTSTANDING_FEN_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_REPAYMENT_FEN_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    outstanding_fen: int
    monthly_repayment_fen: int
    period: _common_pb2.Period
    def __init__(self, outstanding_fen: _Optional[int] = ..., monthly_repayment_fen: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ...) -> None: ...

class MarketRegulationRecord(_message.Message):
    __slots__ = ("businesses",)
    BUSINESSES_FIELD_NUMBER: _ClassVar[int]
    businesses: _containers.RepeatedCompositeFieldContainer[BusinessRegistration]
    def __init__(self, businesses: _Optional[_Iterable[_Union[BusinessRegistration, _Mapping]]] = ...) -> None: ...

class BusinessRegistration(_message.Message):
    __slots__ = ("registration_number", "name", "kind", "role", "subscribed_capital_fen", "status", "registered_on", "annual_revenue_fen")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[BusinessRegistration.Kind]
        KIND_INDIVIDUAL_BUSINESS: _ClassVar[BusinessRegistration.Kind]
        KIND_COMPANY: _ClassVar[BusinessRegistration.Kind]
        KIND_PARTNERSHIP: _ClassVar[BusinessRegistration.Kind]
    KIND_UNSPECIFIED: BusinessRegistration.Kind
    KIND_INDIVIDUAL_BUSINESS: BusinessRegistration.Kind
    KIND_COMPANY: BusinessRegistration.Kind
    KIND_PARTNERSHIP: BusinessRegistration.Kind
    class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ROLE_UNSPECIFIED: _ClassVar[BusinessRegistration.Role]
        ROLE_OPERATOR: _ClassVar[BusinessRegistration.Role]
        ROLE_LEGAL_REPRESENTATIVE: _ClassVar[BusinessRegistration.Role]
        ROLE_SHAREHOLDER: _ClassVar[BusinessRegistration.Role]
    ROLE_UNSPECIFIED: BusinessRegistration.Role
    ROLE_OPERATOR: BusinessRegistration.Role
    ROLE_LEGAL_REPRESENTATIVE: BusinessRegistration.Role
    ROLE_SHAREHOLDER: BusinessRegistration.Role
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[BusinessRegistration.Status]
        STATUS_ACTIVE: _ClassVar[BusinessRegistration.Status]
        STATUS_REVOKED: _ClassVar[BusinessRegistration.Status]
        STATUS_DEREGISTERED: _ClassVar[BusinessRegistration.Status]
    STATUS_UNSPECIFIED: BusinessRegistration.Status
    STATUS_ACTIVE: BusinessRegistration.Status
    STATUS_REVOKED: BusinessRegistration.Status
    STATUS_DEREGISTERED: BusinessRegistration.Status
    REGISTRATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_CAPITAL_FEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_REVENUE_FEN_FIELD_NUMBER: _ClassVar[int]
    registration_number: str
    name: str
    kind: BusinessRegistration.Kind
    role: BusinessRegistration.Role
    subscribed_capital_fen: int
    status: BusinessRegistration.Status
    registered_on: _common_pb2.Date
    annual_revenue_fen: int
    def __init__(self, registration_number: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[BusinessRegistration.Kind, str]] = ..., role: _Optional[_Union[BusinessRegistration.Role, str]] = ..., subscribed_capital_fen: _Optional[int] = ..., status: _Optional[_Union[BusinessRegistration.Status, str]] = ..., registered_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., annual_revenue_fen: _Optional[int] = ...) -> None: ...

class TaxRecord(_message.Message):
    __slots__ = ("filings",)
    FILINGS_FIELD_NUMBER: _ClassVar[int]
    filings: _containers.RepeatedCompositeFieldContainer[TaxFiling]
    def __init__(self, filings: _Optional[_Iterable[_Union[TaxFiling, _Mapping]]] = ...) -> None: ...

class TaxFiling(_message.Message):
    __slots__ = ("taxpayer_kind", "period", "taxable_income_fen", "tax_paid_fen")
    class TaxpayerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TAXPAYER_KIND_UNSPECIFIED: _ClassVar[TaxFiling.TaxpayerKind]
        TAXPAYER_KIND_INDIVIDUAL: _ClassVar[TaxFiling.TaxpayerKind]
        TAXPAYER_KIND_PRIVATE_BUSINESS: _ClassVar[TaxFiling.TaxpayerKind]
    TAXPAYER_KIND_UNSPECIFIED: TaxFiling.TaxpayerKind
    TAXPAYER_KIND_INDIVIDUAL: TaxFiling.TaxpayerKind
    TAXPAYER_KIND_PRIVATE_BUSINESS: TaxFiling.TaxpayerKind
    TAXPAYER_KIND_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TAXABLE_INCOME_FEN_FIELD_NUMBER: _ClassVar[int]
    TAX_PAID_FEN_FIELD_NUMBER: _ClassVar[int]
    taxpayer_kind: TaxFiling.TaxpayerKind
    period: _common_pb2.Period
    taxable_income_fen: int
    tax_paid_fen: int
    def __init__(self, taxpayer_kind: _Optional[_Union[TaxFiling.TaxpayerKind, str]] = ..., period: _Optional[_Union[_common_pb2.Period, _Mapping]] = ..., taxable_income_fen: _Optional[int] = ..., tax_paid_fen: _Optional[int] = ...) -> None: ...
